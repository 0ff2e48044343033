"""mmmech: mechanistic models of multiple myeloma drugs and their combinations.

Layers (each reads only from the ones above it):

- :mod:`mmmech.drugs`: the drug library (RDKit molecules and described biologics),
  structure-based class and target inference;
- :mod:`mmmech.structures`: the target registry, binding sites and mutations (Biopython);
- :mod:`mmmech.pathways`: the curated myeloma network and its logic-ODE semantics (networkx);
- :mod:`mmmech.model`: drugs + network + context -> batched simulations (Cython kernels);
- :mod:`mmmech.synergy`: Bliss, HSA, Loewe and ZIP on simulated or measured surfaces;
- :mod:`mmmech.screen`: every combination ranked, locally or on Dask.

Submodules load on first use, so ``import mmmech`` stays fast.
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = {"drugs", "structures", "pathways", "model", "synergy", "screening", "plot",
               "units", "exceptions", "occupancy", "propagate", "compiled", "utils",
               "resources", "interchange", "scoring", "contexts", "draw", "diffusion",
               "testing"}
# top-level convenience functions -> (module, attribute)
_FUNCTIONS = {
    "simulate": ("model", "simulate"),
    "score": ("scoring", "score"),
    "screen": ("screening", "screen"),
}

__all__ = ["__version__", "simulate", "score", "screen", "drugs", "structures", "pathways",
           "synergy", "model", "exceptions", "units"]


def __getattr__(name):
    if name in _FUNCTIONS:
        mod, attr = _FUNCTIONS[name]
        return getattr(importlib.import_module(f".{mod}", __name__), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mmmech' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_FUNCTIONS))
