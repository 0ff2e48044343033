"""Deprecated: ``mmmech.diffusion`` moved to :mod:`mmmech.simulation.diffusion` in 0.2 (removed in the next release)."""
import warnings

from .simulation.diffusion import *  # noqa: F403
from .simulation.diffusion import __all__  # noqa: F401

warnings.warn("mmmech.diffusion moved to mmmech.simulation.diffusion; the old module goes away in the next release",
              DeprecationWarning, stacklevel=2)
