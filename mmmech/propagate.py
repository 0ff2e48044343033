"""Deprecated in 0.2: ``mmmech.propagate`` is now :mod:`mmmech.simulation.propagate`.

This re-export goes away in the next release.
"""

import warnings

from .simulation.propagate import *  # noqa: F403
from .simulation.propagate import __all__  # noqa: F401

warnings.warn(
    "mmmech.propagate moved to mmmech.simulation.propagate; the old module goes away in the next "
    "release",
    DeprecationWarning,
    stacklevel=2,
)
