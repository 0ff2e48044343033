"""Deprecated in 0.2: ``mmmech.interchange`` is now :mod:`mmmech.network.io`.

This re-export goes away in the next release.
"""

import warnings

from .network.io import *  # noqa: F403
from .network.io import __all__  # noqa: F401

warnings.warn(
    "mmmech.interchange moved to mmmech.network.io; the old module goes away in the next release",
    DeprecationWarning,
    stacklevel=2,
)
