"""Deprecated in 0.2: ``mmmech.draw`` is now :mod:`mmmech.network.draw`.

This re-export goes away in the next release.
"""

import warnings

from .network.draw import *  # noqa: F403
from .network.draw import __all__  # noqa: F401

warnings.warn(
    "mmmech.draw moved to mmmech.network.draw; the old module goes away in the next release",
    DeprecationWarning,
    stacklevel=2,
)
