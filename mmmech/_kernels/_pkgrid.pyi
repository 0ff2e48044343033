# Typed stub of the compiled kernel _pkgrid.pyx (NumPy reference: _pkgrid_ref.py).
import numpy as np
from numpy.typing import NDArray

def modal_courses(
    out: NDArray[np.float64],
    coef: NDArray[np.float64],
    x: NDArray[np.float64],
    shift: NDArray[np.int64],
    amount: NDArray[np.float64],
    block: int,
    num_threads: int = 1,
) -> None: ...
def absorbed_courses(
    out: NDArray[np.float64],
    lam: NDArray[np.float64],
    ka: NDArray[np.float64],
    wg: NDArray[np.float64],
    we: NDArray[np.float64],
    shift: NDArray[np.int64],
    amount: NDArray[np.float64],
    h: float,
    c: float,
    block: int,
    num_threads: int = 1,
) -> None: ...
