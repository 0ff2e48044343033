"""The rule bytecode shared by the compiler (:mod:`mmmech.simulation.compiled`), the logic kernel
and its NumPy reference: opcodes and the normalized Hill transfer's coefficients.

It lives with the kernels so that they depend on nothing above them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["OP_LIT", "OP_NOT", "OP_AND", "OP_OR", "OP_CONST", "hill_coefficients"]

OP_LIT, OP_NOT, OP_AND, OP_OR, OP_CONST = 0, 1, 2, 3, 4


def hill_coefficients(
    n: npt.ArrayLike, ec50: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(B, Kn, linear)`` of the normalized Hill function for arrays `n`, `ec50`.

    ``linear`` is True where ``n == 1`` and ``EC50 == 0.5`` (then ``f(x) = x``; B and Kn are
    set to 1 and 0 and must not be used).
    """
    n_a = np.asarray(n, dtype=float)
    en = np.asarray(ec50, dtype=float) ** n_a
    denom = 2.0 * en - 1.0
    linear = np.abs(denom) < 1e-12
    safe = np.where(linear, -1.0, denom)
    B = np.where(linear, 1.0, (en - 1.0) / safe)
    Kn = np.where(linear, 0.0, B - 1.0)
    return B, Kn, linear
