"""Documented entry point for the network layer: ``mmmech.pathways.load("myeloma")``.

The names of :mod:`mmmech.network` (models, loading and reading, validation, drug attachment,
contexts, rule logic); new code may import from :mod:`mmmech.network` directly.
"""

from . import network as _network
from .network import *  # noqa: F403  (the layer's public names, listed in its __all__)

__all__ = list(_network.__all__)
