# Typed stub of the compiled kernel _occupancy.pyx (NumPy reference: _occupancy_ref.py).
import numpy as np
from numpy.typing import NDArray

def openmp_enabled() -> bool: ...
def occupancy(
    conc: NDArray[np.float64],
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    out: NDArray[np.float64],
    num_threads: int = 0,
) -> None: ...
def occupancy_step_mean(
    conc: NDArray[np.float64],
    sel: NDArray[np.int64],
    cdrug: NDArray[np.int64],
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    out: NDArray[np.float64],
    dest: NDArray[np.int64],
    ocol: NDArray[np.int64],
    substeps: int,
    num_threads: int = 1,
) -> int: ...
def binding_step_mean(
    fine: NDArray[np.float64],
    scale: float,
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    k_off: NDArray[np.float64],
    dt: float,
    out: NDArray[np.float64],
    dest: NDArray[np.int64],
    ocol: NDArray[np.int64],
    nf: int,
    num_threads: int = 1,
) -> int: ...
def occupancy_step_mean_dt(
    conc: NDArray[np.float64],
    sel: NDArray[np.int64],
    cdrug: NDArray[np.int64],
    k: NDArray[np.float64],
    h: NDArray[np.float64],
    out: NDArray[np.float64],
    dest: NDArray[np.int64],
    ocol: NDArray[np.int64],
    substeps: int,
    num_threads: int = 1,
) -> int: ...
