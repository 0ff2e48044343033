"""Documented entry point for simulations: ``mmmech.model.Simulator``, ``simulate``.

The names of :mod:`mmmech.simulation`; new code may import from there directly.
"""

from . import simulation as _simulation
from .simulation import *  # noqa: F403  (the layer's public names, listed in its __all__)

__all__ = list(_simulation.__all__)
