# Typed stub of the compiled kernel _tumour.pyx (NumPy reference: _tumour_ref.py; inputs are
# checked by mmmech.dynamics._tumour_course and mmmech.dynamics.imwg).
import numpy as np
from numpy.typing import NDArray

def openmp_enabled() -> bool: ...
def rates(
    out: NDArray[np.float64],
    g: NDArray[np.float64],
    d: NDArray[np.float64],
    r0: NDArray[np.float64],
    growth: NDArray[np.float64],
    sens: NDArray[np.float64],
    scaled: bool,
    r0_res: NDArray[np.float64],
    lost: NDArray[np.float64],
    resist: bool,
    rate: NDArray[np.float64],
    num_threads: int = 1,
) -> None: ...
def integrate(
    rate: NDArray[np.float64],
    er: NDArray[np.float64],
    dt: float,
    k: NDArray[np.float64],
    ek: NDArray[np.float64],
    s: NDArray[np.float64],
    m_start: NDArray[np.float64],
    post: NDArray[np.float64],
    N: NDArray[np.float64],
    Mp: NDArray[np.float64],
    num_threads: int = 1,
) -> None: ...
def classify(
    m: NDArray[np.float64],
    cr_reduction: float,
    cat: NDArray[np.int8],
    end: NDArray[np.int64],
    low: NDArray[np.float64],
    reduction: NDArray[np.float64],
    num_threads: int = 1,
) -> None: ...
