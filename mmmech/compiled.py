"""Deprecated in 0.2: ``mmmech.compiled`` is now :mod:`mmmech.simulation.compiled`.

This re-export goes away in the next release.
"""

import warnings

from .simulation.compiled import *  # noqa: F403
from .simulation.compiled import __all__  # noqa: F401

warnings.warn(
    "mmmech.compiled moved to mmmech.simulation.compiled; the old module goes away in the next "
    "release",
    DeprecationWarning,
    stacklevel=2,
)
