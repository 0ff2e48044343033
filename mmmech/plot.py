"""Deprecated in 0.2: ``mmmech.plot`` is now :mod:`mmmech.synergy.plot`.

This re-export goes away in the next release.
"""

import warnings

from .synergy.plot import *  # noqa: F403
from .synergy.plot import __all__  # noqa: F401

warnings.warn(
    "mmmech.plot moved to mmmech.synergy.plot; the old module goes away in the next release",
    DeprecationWarning,
    stacklevel=2,
)
