"""Deprecated in 0.2: ``mmmech.logic`` is now :mod:`mmmech.network.logic`.

This re-export goes away in the next release.
"""

import warnings

from .network.logic import *  # noqa: F403
from .network.logic import __all__  # noqa: F401

warnings.warn(
    "mmmech.logic moved to mmmech.network.logic; the old module goes away in the next release",
    DeprecationWarning,
    stacklevel=2,
)
