"""Every public signature of mmmech is annotated (issue 12, "The public API, typed and stable").

For each public module (the layer packages, their public submodules and the foundation modules
users import), every function named in ``__all__`` must annotate all of its parameters and its
return; every public class must do the same for its public methods, class and static methods and
properties (the getter's return), and its ``__init__`` must annotate its parameters (the
``__init__`` that ``dataclasses`` writes carries the field annotations). Only members defined in
mmmech are checked, including those inherited from mmmech's own base classes; members inherited
from the standard library or NumPy are not.

One test per module, so a failure names the module and lists every missing annotation; the type
checker itself (``mypy``, configured in pyproject.toml) runs in ``.ci/run``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest

# the public layers; each package's public (non-underscore) submodules are checked as well
ROOTS = [
    "mmmech.drugs",
    "mmmech.structures",
    "mmmech.network",
    "mmmech.network.io",
    "mmmech.network.draw",
    "mmmech.simulation",
    "mmmech.dynamics",
    "mmmech.synergy",
    "mmmech.scoring",
    "mmmech.screening",
    "mmmech.units",
    "mmmech.sources",
    "mmmech.exceptions",
]


def public_modules() -> list[str]:
    names: list[str] = []
    for root in ROOTS:
        names.append(root)
        mod = importlib.import_module(root)
        if hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__, root + "."):
                leaf = info.name.rsplit(".", 1)[1]
                if not leaf.startswith("_") and info.name not in ROOTS:
                    names.append(info.name)
    return sorted(set(names))


def _missing(func: Callable[..., Any], where: str, *, need_return: bool = True) -> list[str]:
    """The unannotated parameters (and return) of `func`, as readable strings."""
    try:
        sig = inspect.signature(inspect.unwrap(func))
    except (TypeError, ValueError):  # builtins without a signature: not ours to annotate
        return []
    out = []
    params = list(sig.parameters.values())
    for i, p in enumerate(params):
        if i == 0 and p.name in ("self", "cls"):
            continue
        if p.annotation is inspect.Parameter.empty:
            out.append(f"{where}: parameter {p.name!r} has no annotation")
    if need_return and sig.return_annotation is inspect.Signature.empty:
        out.append(f"{where}: no return annotation")
    return out


def _is_ours(obj: object) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("mmmech")


def _class_missing(cls: type, where: str) -> list[str]:
    out: list[str] = []
    for klass in cls.__mro__:
        if klass is object or not _is_ours(klass):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") and name != "__init__":
                continue
            label = f"{where}.{name}"
            if isinstance(member, property):
                if member.fget is not None:
                    out += _missing(member.fget, label)
            elif isinstance(member, (staticmethod, classmethod)):
                out += _missing(member.__func__, label)
            elif inspect.isfunction(member):
                # dataclass/NamedTuple generated __init__ carry the field annotations
                out += _missing(member, label, need_return=name != "__init__")
    return out


def missing_annotations(modname: str) -> list[str]:
    mod = importlib.import_module(modname)
    out: list[str] = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        where = f"{modname}.{name}"
        if inspect.isclass(obj):
            if _is_ours(obj):
                out += _class_missing(obj, where)
        elif callable(obj) and _is_ours(obj):
            out += _missing(obj, where)
    return sorted(set(out))


MODULES = public_modules()


@pytest.mark.parametrize("modname", MODULES)
def test_public_signatures_are_annotated(modname: str) -> None:
    missing = missing_annotations(modname)
    assert not missing, f"{len(missing)} missing annotation(s) in {modname}:\n" + "\n".join(missing)


def test_the_walk_covers_the_layers() -> None:
    """The walk is not vacuous: it sees the main modules of each layer, and the checker reports
    an unannotated parameter and return."""
    assert {
        "mmmech.simulation.simulator",
        "mmmech.network.model",
        "mmmech.synergy.plot",
        "mmmech.scoring",
        "mmmech.units",
    } <= set(MODULES)

    def bare(x, y: int = 1):  # deliberately unannotated
        return x

    assert _missing(bare, "bare") == [
        "bare: parameter 'x' has no annotation",
        "bare: no return annotation",
    ]
