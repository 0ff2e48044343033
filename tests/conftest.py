"""Shared fixtures: the real public data beside the project (skipped when absent)."""

import os
import pathlib
import subprocess
import sys

import pytest
from _helpers import NEUTRAL_CWD
from hypothesis import HealthCheck, settings

# Examples run on shared, loaded machines: no per-example deadline (tests never assert on time).
# Derandomized: every run (CI included) draws the same examples, so a result is reproducible;
# explore new examples with `pytest --hypothesis-profile=explore`.
settings.register_profile(
    "mmmech",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mmmech")


ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = pathlib.Path(os.environ.get("MMMECH_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data():
    """Path to ../shared/data; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def run_cli():
    """Run the installed ``mmmech`` CLI (as ``python -m mmmech``); returns CompletedProcess."""

    def run(*args, timeout=300):
        return subprocess.run(
            [sys.executable, "-m", "mmmech", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=NEUTRAL_CWD,
        )

    return run
