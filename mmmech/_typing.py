"""Type aliases shared by the public signatures (for readers and type checkers)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import numpy as np

    from .network.contexts import Context
    from .network.model import PathwayModel

__all__ = ["SeedLike", "PathLike", "ModelLike", "ContextLike"]

#: what :func:`mmmech.utils.check_random_state` accepts
SeedLike = Union[None, int, "np.random.Generator"]
#: a file path
PathLike = Union[str, "os.PathLike[str]"]
#: a PathwayModel, a bundled model name or a model file path
ModelLike = Union["PathwayModel", str, "os.PathLike[str]"]
#: a Context, a bundled context name or a context file path
ContextLike = Union["Context", str, "os.PathLike[str]"]
