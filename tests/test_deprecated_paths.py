"""The module paths of 0.1 keep working for one release, with a DeprecationWarning."""

import importlib
import subprocess
import sys

import pytest
from _helpers import NEUTRAL_CWD

MOVED = {
    "compiled": "mmmech.simulation.compiled",
    "propagate": "mmmech.simulation.propagate",
    "occupancy": "mmmech.simulation.occupancy",
    "diffusion": "mmmech.simulation.diffusion",
    "contexts": "mmmech.network.contexts",
    "logic": "mmmech.network.logic",
    "interchange": "mmmech.network.io",
    "draw": "mmmech.network.draw",
    "plot": "mmmech.synergy.plot",
}


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_old_module_path_warns_and_reexports(old, new):
    code = (
        f"import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        f"try:\n    import mmmech.{old}\nexcept DeprecationWarning as w:\n    print(w)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=NEUTRAL_CWD, check=True
    ).stdout
    assert f"mmmech.{old} moved to {new}" in out
    with pytest.warns(DeprecationWarning):
        old_mod = importlib.reload(importlib.import_module(f"mmmech.{old}"))
    new_mod = importlib.import_module(new)
    for name in new_mod.__all__:
        assert getattr(old_mod, name) is getattr(new_mod, name), name


def test_old_module_reachable_as_attribute():
    import mmmech

    with pytest.warns(DeprecationWarning):
        importlib.reload(importlib.import_module("mmmech.compiled"))
    assert (
        mmmech.compiled.compile_rules
        is importlib.import_module("mmmech.simulation.compiled").compile_rules
    )
