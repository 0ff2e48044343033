"""Deprecated in 0.2: ``mmmech.occupancy`` is now :mod:`mmmech.simulation.occupancy`.

This re-export goes away in the next release.
"""

import warnings

from .simulation.occupancy import *  # noqa: F403
from .simulation.occupancy import __all__  # noqa: F401

warnings.warn(
    "mmmech.occupancy moved to mmmech.simulation.occupancy; the old module goes away in the next "
    "release",
    DeprecationWarning,
    stacklevel=2,
)
