# Typed stub of the compiled kernel _logic.pyx (NumPy reference: _logic_ref.py; inputs are
# checked by mmmech.propagate, which builds `reg`).
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..simulation.compiled import CompiledModel
from ..simulation.propagate import Regimens

LANES: int
Progress = Callable[[int, int, int], object] | None

def openmp_enabled() -> bool: ...
def default_threads() -> int: ...
def steady_state(
    cm: CompiledModel,
    reg: Regimens,
    tol: float,
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 0,
    h0: float = 0.05,
    h_max: float | None = None,
    progress: Progress = None,
    progress_interval: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64]]: ...
def time_course(
    cm: CompiledModel,
    reg: Regimens,
    times: ArrayLike,
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 0,
    h0: float = 0.05,
    h_max: float | None = None,
    progress: Progress = None,
    progress_interval: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]: ...
def rk4_fixed(
    cm: CompiledModel,
    reg: Regimens,
    dt: float,
    n_steps: int,
    num_threads: int = 0,
    progress: Progress = None,
    progress_interval: float = 1.0,
) -> NDArray[np.float64]: ...
