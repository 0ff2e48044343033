# Typed stub of the compiled kernel _synergy_lm.pyx (NumPy reference: _synergy_lm_ref.py).
import numpy as np
from numpy.typing import NDArray

def openmp_enabled() -> bool: ...
def lm_fit(
    u: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    p: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    free: NDArray[np.uint8],
    span: NDArray[np.float64],
    max_iter: int,
    ftol: float,
    xtol: float,
    sse: NDArray[np.float64],
    iters: NDArray[np.int32],
    num_threads: int = 0,
) -> None: ...
def sf_fit(
    kind: NDArray[np.int32],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    npts: NDArray[np.int32],
    cfix: NDArray[np.float64],
    fixed: NDArray[np.uint8],
    dfix: NDArray[np.float64],
    dfixed: NDArray[np.uint8],
    maxit: int,
    reltol: float,
    par: NDArray[np.float64],
    status: NDArray[np.int32],
    iters: NDArray[np.int32],
    fmin: NDArray[np.float64],
) -> None: ...
