"""mmmech: mechanistic models of multiple myeloma drugs and their combinations.

One subpackage per layer; each reads only from the layers listed before it (a test walks the
import graph and fails on an upward import or a cycle):

- foundation: :mod:`mmmech.exceptions`, :mod:`mmmech.units`, :mod:`mmmech.utils`,
  :mod:`mmmech.resources` and the compiled kernels :mod:`mmmech._kernels`;
- :mod:`mmmech.drugs`: the drug library (RDKit molecules and described biologics), structure-based
  class and target inference;
- :mod:`mmmech.structures`: the target registry, binding sites and mutations (Biopython);
- :mod:`mmmech.network`: the curated myeloma network, contexts, rule logic, formats (``io``) and
  drawing (``draw``); :mod:`mmmech.pathways` is its documented entry point;
- :mod:`mmmech.simulation`: drugs + network + context -> batched simulations on the kernels;
  :mod:`mmmech.model` is its documented entry point;
- :mod:`mmmech.dynamics`: regimens in time (PK -> network -> tumour -> M-protein -> IMWG,
  ``mmmech.simulate_regimen``);
- :mod:`mmmech.synergy`: Bliss, HSA, Loewe and ZIP on simulated or measured surfaces;
- :mod:`mmmech.scoring`: a regimen's simulated surface scored (``mmmech.score``);
- :mod:`mmmech.screening`: every combination ranked, locally or on Dask (``mmmech.screen``);
- :mod:`mmmech.trials`: virtual trials, the same virtual patients through every arm
  (``mmmech.trial``);
- :mod:`mmmech.cli`: argument parsing and printing only.

Submodules load on first use, so ``import mmmech`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

_SUBMODULES = {
    "drugs",
    "structures",
    "network",
    "simulation",
    "dynamics",
    "synergy",
    "scoring",
    "screening",
    "trials",
    "pathways",
    "model",
    "units",
    "exceptions",
    "utils",
    "resources",
    "testing",
}
# module paths of 0.1 that moved into the layer packages: still importable for one release
# (mmmech/<old>.py re-exports the new module and warns DeprecationWarning)
_MOVED = {
    "compiled": "simulation.compiled",
    "propagate": "simulation.propagate",
    "occupancy": "simulation.occupancy",
    "diffusion": "simulation.diffusion",
    "contexts": "network.contexts",
    "logic": "network.logic",
    "interchange": "network.io",
    "draw": "network.draw",
    "plot": "synergy.plot",
}
# top-level convenience functions -> (module, attribute)
_FUNCTIONS = {
    "simulate": ("simulation.simulator", "simulate"),
    "simulate_batch": ("simulation.simulator", "simulate_batch"),
    "simulate_regimen": ("dynamics.regimen", "simulate_regimen"),
    "score": ("scoring", "score"),
    "screen": ("screening", "screen"),
    "rank": ("ranking", "rank"),
    "trial": ("trials", "trial"),
}

__all__ = [
    "__version__",
    "simulate",
    "simulate_batch",
    "simulate_regimen",
    "score",
    "screen",
    "rank",
    "trial",
    "drugs",
    "structures",
    "network",
    "simulation",
    "dynamics",
    "pathways",
    "synergy",
    "scoring",
    "screening",
    "trials",
    "model",
    "exceptions",
    "units",
]


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        mod, attr = _FUNCTIONS[name]
        return getattr(importlib.import_module(f".{mod}", __name__), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _MOVED:  # the 0.1 module, a deprecated re-export that warns when imported
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mmmech' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_FUNCTIONS))
