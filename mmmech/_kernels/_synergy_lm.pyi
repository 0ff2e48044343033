# Typed stub of the compiled kernel _synergy_lm.pyx (NumPy reference: _synergy_lm_ref.py).
import numpy as np
from numpy.typing import NDArray

def openmp_enabled() -> bool: ...
def lm_fit(u: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64],
           p: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64],
           free: NDArray[np.uint8], span: NDArray[np.float64], max_iter: int, ftol: float,
           xtol: float, sse: NDArray[np.float64], iters: NDArray[np.int32],
           num_threads: int = 0) -> None: ...
