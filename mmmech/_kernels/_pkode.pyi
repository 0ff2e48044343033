# Typed stub of the compiled kernel _pkode.pyx (reference: _pkode_ref.py).
import numpy as np
from numpy.typing import NDArray

def openmp_enabled() -> bool: ...
def npar() -> int: ...
def solve(
    par: NDArray[np.float64],
    brk_ptr: NDArray[np.intp],
    brk_t: NDArray[np.float64],
    jmp_ptr: NDArray[np.intp],
    jmp_t: NDArray[np.float64],
    jmp_idx: NDArray[np.intp],
    jmp_amt: NDArray[np.float64],
    inf_ptr: NDArray[np.intp],
    inf_s: NDArray[np.float64],
    inf_e: NDArray[np.float64],
    inf_r: NDArray[np.float64],
    times: NDArray[np.float64],
    out: NDArray[np.float64],
    status: NDArray[np.int32],
    counts: NDArray[np.intp],
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 1,
) -> None: ...
