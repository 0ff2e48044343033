# Typed stub of the compiled kernel _toxicity.pyx (NumPy reference: _toxicity_ref.py).
import numpy as np
from numpy.typing import NDArray

def openmp_enabled() -> bool: ...
def friberg_cycle(
    c0: float,
    h: float,
    n: int,
    m: int,
    step: float,
    dose_t: NDArray[np.float64],
    dose_mg: NDArray[np.float64],
    dose_route: NDArray[np.intp],
    term_ptr: NDArray[np.intp],
    term_idx: NDArray[np.intp],
    term_par: NDArray[np.float64],
    scale: NDArray[np.float64],
    ktr: float,
    gamma: float,
    baseline: NDArray[np.float64],
    state: NDArray[np.float64],
    out: NDArray[np.float64],
    num_threads: int = 1,
) -> None: ...
def platelet_cycle(
    c0: float,
    h: float,
    n: int,
    m: int,
    step: float,
    dose_t: NDArray[np.float64],
    dose_mg: NDArray[np.float64],
    dose_route: NDArray[np.intp],
    term_ptr: NDArray[np.intp],
    term_idx: NDArray[np.intp],
    term_par: NDArray[np.float64],
    scale: NDArray[np.float64],
    auc_coef: NDArray[np.float64],
    kprp: float,
    kin: float,
    state: NDArray[np.float64],
    out: NDArray[np.float64],
    num_threads: int = 1,
) -> None: ...
