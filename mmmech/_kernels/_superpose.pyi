# Typed stub of the compiled kernel _superpose.pyx (NumPy reference: _superpose_ref.py).
import numpy as np
from numpy.typing import NDArray

def shift_add(
    out: NDArray[np.float64],
    units: NDArray[np.float64],
    route: NDArray[np.int64],
    shift: NDArray[np.int64],
    amount: NDArray[np.float64],
) -> None: ...
