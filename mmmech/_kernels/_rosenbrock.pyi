# Typed stub of the compiled kernel _rosenbrock.pyx (NumPy reference: _rosenbrock_ref.py; inputs
# are checked by mmmech.dynamics._course.network_course, which builds `reg`).
from typing import Any

import numpy as np
from numpy.typing import NDArray

LANES: int

def openmp_enabled() -> bool: ...
def course(
    cm: Any,
    reg: Any,
    cols: NDArray[np.int64],
    values: NDArray[np.float64],
    dt: float,
    out_nodes: NDArray[np.int64],
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 0,
    h0: float = 0.05,
    fixed_steps: int = 0,
    stretch: float = 1.0,
    jump_step: bool = False,
    norm_n: int = 0,
    method: str = "rodas4",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]: ...
def relax_course(
    eq: NDArray[np.float64],
    decay: NDArray[np.float64],
    mean_w: NDArray[np.float64],
    theta0: NDArray[np.float64],
    num_threads: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
