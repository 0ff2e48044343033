"""Deprecated in 0.2: ``mmmech.diffusion`` is now :mod:`mmmech.simulation.diffusion`.

This re-export goes away in the next release.
"""

import warnings

from .simulation.diffusion import *  # noqa: F403
from .simulation.diffusion import __all__  # noqa: F401

warnings.warn(
    "mmmech.diffusion moved to mmmech.simulation.diffusion; the old module goes away in the next "
    "release",
    DeprecationWarning,
    stacklevel=2,
)
