"""Compiled kernels of mmmech (Cython) and their NumPy references.

Import compiled modules through :func:`load`, which turns a missing extension into an
ImportError that says how to build it. Kernels take typed memoryviews and scalars only;
the public wrappers in ``mmmech`` check every input before a kernel runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..exceptions import KernelUnavailableError

__all__ = ["load", "available", "openmp_enabled"]

_BUILD_HINT = (
    "the compiled kernels of mmmech are missing ({name}): build the package with "
    "'pip install .' (or 'pip install -e .' for development) from the source tree; "
    "this needs a C compiler, Cython>=3 and NumPy"
)


def load(name: str) -> ModuleType:
    """Import the compiled kernel module ``mmmech._kernels.<name>``.

    Raises
    ------
    KernelUnavailableError
        (an ImportError) when the extension was not built, with the command that builds it.
    """
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError as exc:
        raise KernelUnavailableError(_BUILD_HINT.format(name=name)) from exc


def available(name: str) -> bool:
    """True when the compiled kernel module `name` can be imported."""
    try:
        load(name)
    except KernelUnavailableError:
        return False
    return True


def openmp_enabled() -> bool:
    """True when the kernels were built with OpenMP (``prange`` runs in parallel)."""
    return bool(load("_occupancy").openmp_enabled())
