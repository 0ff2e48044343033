"""Deprecated in 0.2: ``mmmech.contexts`` is now :mod:`mmmech.network.contexts`.

This re-export goes away in the next release.
"""

import warnings

from .network.contexts import *  # noqa: F403
from .network.contexts import __all__  # noqa: F401

warnings.warn(
    "mmmech.contexts moved to mmmech.network.contexts; the old module goes away in the next "
    "release",
    DeprecationWarning,
    stacklevel=2,
)
