"""The log/exp lookup tables of the kernels' fast power (``mm_hill`` in _logic_helpers.h).

Every extension that includes the helper header holds its own static copy of the tables and
fills it at import from these arrays (computed once per process, in exact decimal arithmetic).
"""

from __future__ import annotations

import functools
from decimal import Decimal, localcontext

import numpy as np

__all__ = ["hill_tables"]


@functools.cache
def hill_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(invc, logc, exp2t)``: for j = 0..127, invc_j = 1 / c_j with c_j = 1 + (j + 1/2) / 128
    and logc_j = -ln(invc_j); for j = 0..63, exp2t_j = 2 ** (j / 64). Read-only arrays."""
    invc = np.empty(128)
    logc = np.empty(128)
    exp2t = np.empty(64)
    # a local 50-digit context: the importing thread's decimal settings stay untouched
    with localcontext() as ctx:
        ctx.prec = 50
        for j in range(128):
            invc[j] = float(1 / (1 + (Decimal(j) + Decimal("0.5")) / 128))
            logc[j] = float(-Decimal(invc[j]).ln())
        for j in range(64):
            exp2t[j] = float(Decimal(2) ** (Decimal(j) / 64))
    for a in (invc, logc, exp2t):
        a.flags.writeable = False
    return invc, logc, exp2t
