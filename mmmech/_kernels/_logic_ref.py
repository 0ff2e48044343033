"""NumPy reference of the logic-ODE kernels (batched over regimens; clear, not fast).

Same signatures and results as the Cython kernels in ``_logic.pyx``: ``steady_state(cm, reg,
tol, rtol, atol, max_steps, ...)``, ``time_course(cm, reg, times, ...)`` and
``rk4_fixed(cm, reg, dt, n_steps, ...)`` with `reg` the checked
:class:`mmmech.simulation.propagate.Regimens`; ``num_threads`` is accepted and ignored,
``progress`` is called as by the kernel. The array-level implementations (``*_arrays``) take the
regimen arrays one by one. Inputs are assumed checked by :mod:`mmmech.simulation.propagate`.
Every function works on R regimens at once.

Integrators
-----------
* ``rk4_fixed``: classical Runge-Kutta 4 with a fixed step (for differential tests).
* ``steady_state`` / ``time_course``: Dormand-Prince 5(4) with per-regimen adaptive steps and
  error control (``rtol``, ``atol``); steady state is reached where
  ``max_i max(|dy_i/dt|, tau_i |dy_i/dt|) < tol`` over free nodes (``_settle_norm``): the rate
  and the distance to the node's current target, ``tau_i |dy_i/dt| = |ymax_i F_i - y_i|``, are
  both below `tol`. The distance term makes the test scale-aware: a slow node (tau = 1e6) has a
  tiny rate far from its target and is not taken as settled at its start; for tau <= 1 the test
  is the plain rate test. A start is reported converged after 0 steps only if it passes this
  test, that is, if it is a fixed point to `tol`. A regimen that does not get there within
  ``max_steps`` is reported ``converged = False`` (never silently).
* The step is capped at ``h_max`` (default: the regimen's smallest time constant ``tau``), inside
  the real stability interval of Dormand-Prince (about -3.3): without the cap an explicit
  integrator approaching a steady state settles at its stability limit, where the error control
  lets the state jitter at the ``rtol`` level and ``|dy/dt|`` never falls below a small ``tol``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._bytecode import OP_AND, OP_CONST, OP_LIT, OP_NOT, hill_coefficients

__all__ = [
    "derivative",
    "rk4_fixed",
    "steady_state",
    "time_course",
    "steady_state_arrays",
    "time_course_arrays",
    "rk4_fixed_arrays",
    "DP_A",
    "DP_B",
    "DP_E",
    "DP_C",
]

# `cm` is a mmmech.simulation.compiled.CompiledModel, `reg` a mmmech.simulation.propagate.Regimens
# and `params` a ParamSet: typed Any here, since the kernels sit below the simulation layer
_Progress = Callable[[int, int, int], object] | None
#: y (R, N), converged (R,), accepted steps (R,), time reached (R,)
_SteadyArrays = tuple[
    NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64]
]

# Dormand-Prince 5(4) tableau
DP_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
DP_A = [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
]
DP_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0])
# difference between the 5th- and 4th-order weights (error estimate)
DP_E = DP_B - np.array(
    [5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40]
)


class _Batch:
    """Per-regimen parameters gathered once: (R, E) and (R, N) arrays."""

    def __init__(self, cm, params, param_index, fixed_mask, fixed_value):
        B, Kn, lin = hill_coefficients(params.n, params.ec50)
        pi = param_index
        self.w, self.n = params.w[pi], params.n[pi]
        self.B, self.Kn, self.lin = B[pi], Kn[pi], lin[pi]
        self.tau, self.ymax = params.tau[pi], params.ymax[pi]
        self.fixed_mask = fixed_mask.astype(bool)
        self.fixed_value = fixed_value
        self.cm = cm
        has_rule = cm.has_rule
        # free: has a rule and is not fixed
        self.free = has_rule[None, :] & ~self.fixed_mask

    def literal(self, y, e):
        x = np.clip(y[:, self.cm.edge_src[e]], 0.0, 1.0)
        n = self.n[:, e]
        xn = x**n
        with np.errstate(invalid="ignore", divide="ignore"):
            hill = np.where(self.lin[:, e], x, self.B[:, e] * xn / (self.Kn[:, e] + xn))
        return self.w[:, e] * hill


def derivative(batch: Any, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """dy/dt of every node, shape (R, N); zero for held and fixed nodes."""
    cm = batch.cm
    R, N = y.shape
    F = np.zeros((R, N))
    ops, args, ptr = cm.prog_op, cm.prog_arg, cm.prog_ptr
    for i in range(N):
        a, b = ptr[i], ptr[i + 1]
        if a == b:
            continue
        stack = []
        for k in range(a, b):
            op = ops[k]
            if op == OP_LIT:
                stack.append(batch.literal(y, args[k]))
            elif op == OP_CONST:
                stack.append(np.full(R, float(args[k])))
            elif op == OP_NOT:
                stack.append(1.0 - stack.pop())
            else:
                rhs, lhs = stack.pop(), stack.pop()
                stack.append(lhs * rhs if op == OP_AND else 1.0 - (1.0 - lhs) * (1.0 - rhs))
        F[:, i] = stack.pop()
    dy = (batch.ymax * F - y) / batch.tau
    return np.where(batch.free, dy, 0.0)


def _start(cm, y0, fixed_mask, fixed_value):
    y = np.array(y0, dtype=float, copy=True)
    return np.where(fixed_mask.astype(bool), fixed_value, y)


class _Reporter:
    """Calls ``progress(done, total, steps)`` every `interval` seconds, as the kernel does."""

    def __init__(self, progress, interval, total):
        self.progress, self.interval, self.total = progress, float(interval), int(total)
        self.next = time.monotonic() + self.interval

    def __call__(self, done, steps):
        if self.progress is not None and time.monotonic() >= self.next:
            self.next = time.monotonic() + self.interval
            self.progress(int(done), self.total, int(steps))


def rk4_fixed(
    cm: Any,
    reg: Any,
    dt: float,
    n_steps: int,
    num_threads: int = 0,
    progress: _Progress = None,
    progress_interval: float = 1.0,
) -> NDArray[np.float64]:
    """Kernel signature of :func:`rk4_fixed_arrays`; returns y (R, N)."""
    return rk4_fixed_arrays(
        cm,
        reg.params,
        reg.param_index,
        reg.y0,
        reg.fixed_mask,
        reg.fixed_value,
        dt,
        n_steps,
        progress=progress,
        progress_interval=progress_interval,
    )


def steady_state(
    cm: Any,
    reg: Any,
    tol: float,
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 0,
    h0: float = 0.05,
    h_max: float | None = None,
    progress: _Progress = None,
    progress_interval: float = 1.0,
) -> _SteadyArrays:
    """Kernel signature of :func:`steady_state_arrays`."""
    return steady_state_arrays(
        cm,
        reg.params,
        reg.param_index,
        reg.y0,
        reg.fixed_mask,
        reg.fixed_value,
        tol=tol,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        h0=h0,
        h_max=h_max,
        progress=progress,
        progress_interval=progress_interval,
    )


def time_course(
    cm: Any,
    reg: Any,
    times: Sequence[float] | NDArray[np.float64],
    rtol: float,
    atol: float,
    max_steps: int,
    num_threads: int = 0,
    h0: float = 0.05,
    h_max: float | None = None,
    progress: _Progress = None,
    progress_interval: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Kernel signature of :func:`time_course_arrays`."""
    return time_course_arrays(
        cm,
        reg.params,
        reg.param_index,
        reg.y0,
        reg.fixed_mask,
        reg.fixed_value,
        times,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        h0=h0,
        h_max=h_max,
        progress=progress,
        progress_interval=progress_interval,
    )


def rk4_fixed_arrays(
    cm: Any,
    params: Any,
    param_index: NDArray[np.int64],
    y0: NDArray[np.float64],
    fixed_mask: NDArray[np.uint8],
    fixed_value: NDArray[np.float64],
    dt: float,
    n_steps: int,
    progress: _Progress = None,
    progress_interval: float = 1.0,
) -> NDArray[np.float64]:
    """Classical RK4 with fixed step `dt` for `n_steps`; returns y (R, N)."""
    batch = _Batch(cm, params, param_index, fixed_mask, fixed_value)
    y = _start(cm, y0, fixed_mask, fixed_value)
    report = _Reporter(progress, progress_interval, y.shape[0])
    for step in range(int(n_steps)):
        report(0, step)
        k1 = derivative(batch, y)
        k2 = derivative(batch, y + 0.5 * dt * k1)
        k3 = derivative(batch, y + 0.5 * dt * k2)
        k4 = derivative(batch, y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def _dp_step(batch, y, k1, h):
    """One Dormand-Prince step of sizes h (R,); returns (y_new, k7, err_norm)."""
    ks = [k1]
    for s in range(1, 7):
        acc = y.copy()
        for j, a in enumerate(DP_A[s]):
            if a:
                acc += (h * a)[:, None] * ks[j]
        ks.append(derivative(batch, acc))
    y_new = y + h[:, None] * sum(b * k for b, k in zip(DP_B, ks, strict=True) if b)
    err = h[:, None] * sum(e * k for e, k in zip(DP_E, ks, strict=True) if e)
    return y_new, ks[6], err


def _err_norm(err, y, y_new, rtol, atol):
    scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
    return np.sqrt(np.mean((err / scale) ** 2, axis=1))


def _h_max(batch, h_max):
    """Per-regimen step cap (R,): `h_max` if given, else the smallest time constant."""
    if h_max is None:
        return batch.tau.min(axis=1)
    return np.full(batch.tau.shape[0], float(h_max))


def _advance(batch, y, k1, h, t, t_stop, active, rtol, atol, h_max):
    """Try one adaptive step on the active rows; returns updated (y, k1, h, t, accepted).

    `h_max` is an array (R,) of per-regimen step caps."""
    hh = np.where(active, np.minimum(np.minimum(h, t_stop - t), h_max), 0.0)
    y_new, k7, err = _dp_step(batch, y, k1, hh)
    en = _err_norm(err, y, y_new, rtol, atol)
    accept = active & (en <= 1.0)
    y = np.where(accept[:, None], np.clip(y_new, 0.0, 1.0), y)
    k1 = np.where(accept[:, None], derivative(batch, y), k1)
    t = np.where(accept, t + hh, t)
    fac = 0.9 * np.maximum(en, 1e-10) ** -0.2
    fac = np.clip(fac, 0.2, 5.0)
    h = np.where(active, np.maximum(hh * fac, 1e-10), h)
    return y, k1, h, t, accept


def _settle_norm(batch, k):
    """Steady-state test quantity (R,): ``max_i max(|k_i|, |k_i| tau_i)``, NaN wins."""
    a = np.abs(k)
    return np.max(np.maximum(a, a * batch.tau), axis=1, initial=0.0)


def steady_state_arrays(
    cm: Any,
    params: Any,
    param_index: NDArray[np.int64],
    y0: NDArray[np.float64],
    fixed_mask: NDArray[np.uint8],
    fixed_value: NDArray[np.float64],
    tol: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 20000,
    h0: float = 0.05,
    h_max: float | None = None,
    progress: _Progress = None,
    progress_interval: float = 1.0,
) -> _SteadyArrays:
    """Integrate each regimen until ``max_i max(|dy_i/dt|, tau_i |dy_i/dt|) < tol``.

    Returns
    -------
    y : (R, N) activities; converged : (R,) bool; steps : (R,) int64 accepted steps;
    t : (R,) time reached
    """
    batch = _Batch(cm, params, param_index, fixed_mask, fixed_value)
    y = _start(cm, y0, fixed_mask, fixed_value)
    R = y.shape[0]
    h_max = _h_max(batch, h_max)
    k1 = derivative(batch, y)
    h = np.full(R, float(h0))
    t = np.zeros(R)
    steps = np.zeros(R, dtype=np.int64)
    tries = np.zeros(R, dtype=np.int64)
    converged = _settle_norm(batch, k1) < tol
    inf = np.full(R, np.inf)
    report = _Reporter(progress, progress_interval, R)
    while True:
        active = ~converged & (tries < max_steps)
        if not active.any():
            break
        report(R - active.sum(), tries[active].max())
        y, k1, h, t, acc = _advance(batch, y, k1, h, t, inf, active, rtol, atol, h_max)
        tries += active
        steps += acc
        converged |= acc & (_settle_norm(batch, k1) < tol)
    return y, converged, steps, t


def time_course_arrays(
    cm: Any,
    params: Any,
    param_index: NDArray[np.int64],
    y0: NDArray[np.float64],
    fixed_mask: NDArray[np.uint8],
    fixed_value: NDArray[np.float64],
    times: Sequence[float] | NDArray[np.float64],
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100000,
    h0: float = 0.05,
    h_max: float | None = None,
    progress: _Progress = None,
    progress_interval: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Activities at the given times (T,), shape (R, T, N); ``ok`` (R,) is False where the
    step budget ran out before the last time point."""
    batch = _Batch(cm, params, param_index, fixed_mask, fixed_value)
    y = _start(cm, y0, fixed_mask, fixed_value)
    R, N = y.shape
    h_max = _h_max(batch, h_max)
    out = np.empty((R, len(times), N))
    k1 = derivative(batch, y)
    h = np.full(R, float(h0))
    t = np.zeros(R)
    tries = np.zeros(R, dtype=np.int64)
    report = _Reporter(progress, progress_interval, R)
    for j, tj in enumerate(times):
        stop = np.full(R, float(tj))
        while True:
            active = (t < stop - 1e-12 * max(1.0, tj)) & (tries < max_steps)
            if not active.any():
                break
            report(0, tries.max())
            y, k1, h, t, _ = _advance(batch, y, k1, h, t, stop, active, rtol, atol, h_max)
            tries += active
        out[:, j] = y
    ok = tries < max_steps
    return out, ok
