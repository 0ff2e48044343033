"""Type aliases shared by the public signatures (for readers and type checkers)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import numpy as np

    from .drugs import Drug
    from .network.contexts import Context
    from .network.model import PathwayModel

__all__ = [
    "SeedLike",
    "PathLike",
    "ModelLike",
    "ContextLike",
    "SingleContextLike",
    "RuleTree",
    "ProgressCallback",
    "DrugLike",
]

#: what :func:`mmmech.utils.check_random_state` accepts
SeedLike = Union[None, int, "np.random.Generator"]
#: a file path
PathLike = Union[str, "os.PathLike[str]"]
#: a PathwayModel, a bundled model name or a model file path
ModelLike = Union["PathwayModel", str, "os.PathLike[str]"]
#: one context: a Context, a bundled context name or a context file path
SingleContextLike = Union["Context", str, "os.PathLike[str]"]
#: a context, or a list of them composed in order (``["marrow", "t11_14"]``)
ContextLike = Union[
    "Context", str, "os.PathLike[str]", list[SingleContextLike], tuple[SingleContextLike, ...]
]
#: a parsed Boolean rule (:func:`mmmech.network.logic.parse_rule`): ``("var", name)``,
#: ``("const", 0.0|1.0)``, ``("not", tree)``, ``("and"|"or", (tree, ...))``
RuleTree = tuple[Any, ...]
#: ``progress(done, total, steps)``: regimens done, regimens in all, integration steps so far
ProgressCallback = Callable[[int, int, int], object]
#: a drug name of the library (:func:`mmmech.drugs.get`) or a Drug record
DrugLike = Union[str, "Drug"]
