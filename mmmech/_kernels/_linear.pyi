# Typed stub of the compiled kernel _linear.pyx (NumPy reference: _linear_ref.py).
import numpy as np
from numpy.typing import NDArray

BLOCK: int

def default_threads() -> int: ...
def diffuse(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    dangling: NDArray[np.int32],
    seeds: NDArray[np.float64],
    restart: float,
    n_iter: int,
    tol: float,
    dangling_mode: int,
    num_threads: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64]]: ...
