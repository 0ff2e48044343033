"""NumPy reference of the compiled kernel ``_superpose.pyx`` (same arguments, same bits)."""

from __future__ import annotations

import numpy as np


def shift_add(
    out: np.ndarray, units: np.ndarray, route: np.ndarray, shift: np.ndarray, amount: np.ndarray
) -> None:
    """``out[shift[d]:] += amount[d] * units[route[d], :T - shift[d]]`` for every dose d in
    order, in place (a dose with ``shift >= T`` adds nothing)."""
    T = out.shape[0]
    for r, q, a in zip(route.tolist(), shift.tolist(), amount.tolist(), strict=True):
        if q < T:
            out[q:] += a * units[r, : T - q]
