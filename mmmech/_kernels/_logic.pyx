# Logic-ODE kernels: R regimens of a compiled pathway model integrated at once.
#
# Same semantics, integrators, step-size control and stopping rules as the NumPy reference
# ``_logic_ref.py`` (read that file first). Inputs are checked by mmmech.propagate before
# anything here runs; the def functions only coerce arrays, check that their shapes agree
# with each other, and allocate the outputs. Directives are set once in setup.py.
#
# Layout. Each thread integrates LANES regimens side by side ("lanes"): every node and edge
# value is stored lane-interleaved (``y[node * LANES + lane]``), so one pass of the rule
# programs, one Hill evaluation loop and every Runge-Kutta stage update serve all lanes with
# contiguous, vectorizable inner loops. Each lane keeps its own step size, time, step count
# and accept/reject decision, exactly as the reference does per row; a lane whose regimen
# has settled (or ran out of steps) writes its own output row and takes the next regimen from
# a counter shared by the threads. Per lane the arithmetic is the same whatever the other
# lanes hold, so results do not depend on the thread count or on how regimens are batched.
#
# Structure exploited (exactly, the arithmetic is unchanged): the literal of an edge whose
# source node has no rule is constant; it is computed once when a regimen enters a lane.
# Not exploited: settling acyclic parts first in topological order and iterating only the
# strongly connected components. With one error-controlled step for the whole state (as in
# the reference) a staged integration takes different steps, and with bistable feedback it
# can even reach another steady state, so its result would not equal the reference's.
from cython.parallel cimport parallel
from libc.math cimport pow, fabs, sqrt, INFINITY
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy
from libc.stdint cimport int64_t
from cpython.exc cimport PyErr_CheckSignals

import numpy as np

from ._tables import hill_tables as _hill_tables
from ._bytecode import hill_coefficients as _hill_coefficients

from ._typedefs cimport float64_t, int32_t, uint8_t

__all__ = ["steady_state", "time_course", "rk4_fixed", "openmp_enabled", "default_threads",
           "LANES"]

cdef extern from "_logic_helpers.h":
    int mmmech_logic_default_threads() noexcept nogil
    int MMMECH_HAVE_OPENMP
    Py_ssize_t mm_fetch_add(Py_ssize_t* p) noexcept nogil
    void* mm_aligned_alloc(size_t n) noexcept nogil
    void mm_aligned_free(void* p) noexcept nogil
    int mm_thread_num() noexcept nogil
    int mm_team_size() noexcept nogil
    double mm_now() noexcept nogil
    void mm_sleep_ms(int ms) noexcept nogil
    int mm_load_int(int* p) noexcept nogil
    void mm_store_int(int* p, int v) noexcept nogil
    void mm_add_int(int* p, int v) noexcept nogil
    Py_ssize_t mm_load_ssize(Py_ssize_t* p) noexcept nogil

# C helpers of the lane loops. x**n is computed as exp(n * log(x)) from short series around
# table points (log: 128 points c_j with 1/c_j and log(c_j); exp: 2**(j/64); tables built at
# import from exact decimal arithmetic; relative error about 1e-15 for x in [1e-300, 1]) so
# that the Hill loop vectorizes (libm's pow costs 5-10 ns a call). On x86-64 Linux with GCC
# every helper is compiled for SSE2, AVX2 and AVX-512 (never contracting to FMA, so all three
# give the same bits) and the CPU picks one at load time. The loops keep the reference's
# order of operations for every element.
cdef extern from "_logic_helpers.h":
    enum: MM_LANES
    void mm_set_tables(const double* invc, const double* logc, const double* exp2t) noexcept nogil
    void mm_hill(Py_ssize_t m, const double* x, const double* n, const double* B,
                 const double* Kn, const double* w, const double* lin, double* out) noexcept nogil
    void mm_gather_clip(Py_ssize_t m, const int32_t* src, const double* X,
                        double* px) noexcept nogil
    void mm_rules(Py_ssize_t n_rule, const int32_t* rule_nodes, const int64_t* prog_ptr,
                  const int32_t* prog_op, const int32_t* prog_slot, const double* ph,
                  const double* X, const double* ymax, const double* tau, const double* fr,
                  double* st, double* D) noexcept nogil
    void mm_stage(Py_ssize_t NL, Py_ssize_t s, const double* a, const double* hh,
                  const double* y, const double* k, double* acc) noexcept nogil
    void mm_error(Py_ssize_t N, const double* w, const double* hh, double atol, double rtol,
                  const double* y, const double* k, double* ynew, double* tot) noexcept nogil


def _set_tables():
    """Fill this module's copy of the mm_hill tables (mmmech._kernels._tables)."""
    invc, logc, exp2t = _hill_tables()
    cdef const double[::1] a = invc
    cdef const double[::1] b = logc
    cdef const double[::1] c = exp2t
    mm_set_tables(&a[0], &b[0], &c[0])


_set_tables()


cdef enum:
    LANES = MM_LANES    # regimens integrated side by side by one thread (16)

cdef enum:
    OP_LIT = 0
    OP_NOT = 1
    OP_AND = 2
    OP_OR = 3
    OP_CONST = 4

cdef enum:
    KIND_STEADY = 0
    KIND_COURSE = 1
    KIND_RK4 = 2

# Dormand-Prince 5(4) tableau, copied from the reference at import so both use the very
# same double constants.
cdef double DPA[7][7]
cdef double DPB[7]
cdef double DPE[7]
cdef double DPW[11]     # the nonzero weights: b0, b2, b3, b4, b5, e0, e2, e3, e4, e5, e6


def _load_tableau():
    from ._logic_ref import DP_A, DP_B, DP_E
    cdef int s, j
    for s in range(7):
        DPB[s] = float(DP_B[s])
        DPE[s] = float(DP_E[s])
        for j in range(7):
            DPA[s][j] = float(DP_A[s][j]) if j < len(DP_A[s]) else 0.0


_load_tableau()
# the kernel hard-codes which weights are zero (DP_B[1], DP_B[6], DP_E[1])
if [i for i in range(7) if DPB[i] == 0.0] != [1, 6] or \
        [i for i in range(7) if DPE[i] == 0.0] != [1]:
    raise ImportError("mmmech._kernels._logic: unexpected Dormand-Prince tableau")


def _load_weights():
    cdef int i
    w = [DPB[0], DPB[2], DPB[3], DPB[4], DPB[5], DPE[0], DPE[2], DPE[3], DPE[4], DPE[5], DPE[6]]
    for i in range(11):
        DPW[i] = w[i]


_load_weights()
globals()["LANES"] = LANES


def openmp_enabled():
    """True when this module was compiled with OpenMP."""
    return MMMECH_HAVE_OPENMP != 0


def default_threads():
    """Threads a ``num_threads=0`` call uses (OpenMP's default; 1 without OpenMP)."""
    return mmmech_logic_default_threads()


cdef struct Job:
    # model
    Py_ssize_t N
    Py_ssize_t E
    Py_ssize_t R
    Py_ssize_t max_stack
    const int64_t* prog_ptr
    const int32_t* prog_op
    const int32_t* prog_slot     # OP_LIT: slot of the edge (see below); OP_CONST: 0 or 1
    const int32_t* rule_nodes    # nodes that have a rule
    Py_ssize_t n_rule
    const uint8_t* has_rule
    # edges in slot order: slots 0..n_dyn-1 have a source with a rule (moving), slots
    # n_dyn..E-1 a source without one (constant)
    const int32_t* slot_edge
    const int32_t* slot_src
    Py_ssize_t n_dyn
    # parameter sets: rows of length E (w, n, B, Kn, lin) or N (tau, ymax)
    const double* w
    const double* n
    const double* B
    const double* Kn
    const uint8_t* lin
    const double* tau
    const double* ymax
    # regimens (R, N) and (R,)
    const uint8_t* fixed_mask
    const double* fixed_value
    const double* y0
    const int64_t* param_index
    # settings
    int kind
    double tol
    double rtol
    double atol
    Py_ssize_t max_steps
    double h0
    double h_max         # step cap; <= 0: the regimen's smallest time constant
    double dt
    Py_ssize_t n_steps
    const double* times
    Py_ssize_t T
    # outputs
    double* y_out        # (R, N) steady state / rk4
    uint8_t* flag_out    # (R,) converged / ok
    int64_t* steps_out   # (R,) accepted steps
    double* t_out        # (R,) time reached
    double* course_out   # (R, T, N)
    # work distribution
    Py_ssize_t next      # next regimen to hand out (atomic)
    Py_ssize_t done      # regimens finished (atomic; a check that none was lost)
    # interruption and progress (see _check)
    void* state          # the _RunState of this call (a borrowed Python object)
    int stop             # set (atomic) when the run must end early: every thread leaves
    int left             # worker threads (not thread 0) that finished (atomic)
    double next_poll     # wall time of thread 0's next poll
    double next_progress # wall time of the next progress report


cdef struct Group:
    # lane-interleaved node arrays, N * LANES
    double* y
    double* k            # 7 stages
    double* acc
    double* ynew
    double* tau
    double* ymax
    double* free_        # 1.0 where the node follows its rule in this lane, else 0.0
    # lane-interleaved edge arrays, E * LANES (slot order)
    double* px
    double* pn
    double* pB
    double* pKn
    double* pw
    double* plin
    double* ph           # literal values w * f(x)
    double* stack        # max_stack * LANES
    # one lane's constant edges, E each (used when a regimen enters a lane)
    double* cx
    double* cn
    double* cB
    double* cKn
    double* cw
    double* clin
    double* ch
    # per-lane scalars
    double h[LANES]
    double t[LANES]
    double hmax[LANES]
    double hh[LANES]
    double en[LANES]
    double t_stop[LANES]
    int64_t tries[LANES]
    int64_t steps[LANES]
    Py_ssize_t reg[LANES]
    Py_ssize_t jt[LANES]
    int active[LANES]
    int fresh[LANES]
    int accepted[LANES]
    int exhausted        # the shared counter ran past R
    int master           # this group belongs to OpenMP thread 0 (the calling Python thread)


cdef inline double _clip01(double v) noexcept nogil:
    # np.clip(v, 0, 1): NaN stays NaN
    return 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)


cdef inline double _nan_min(double a, double b) noexcept nogil:
    # np.minimum: NaN wins
    if a != a or b != b:
        return a + b
    return a if a < b else b


cdef inline double _nan_max(double a, double b) noexcept nogil:
    # np.maximum: NaN wins
    if a != a or b != b:
        return a + b
    return a if a > b else b


cdef inline void _deriv(const Job* job, Group* g, const double* X, double* D) noexcept nogil:
    """D = dy/dt at the lane-interleaved state X for every lane (rule nodes only; the
    entries of nodes without a rule are never written and stay zero)."""
    mm_gather_clip(job.n_dyn, job.slot_src, X, g.px)
    mm_hill(job.n_dyn * LANES, g.px, g.pn, g.pB, g.pKn, g.pw, g.plin, g.ph)
    mm_rules(job.n_rule, job.rule_nodes, job.prog_ptr, job.prog_op, job.prog_slot, g.ph, X,
             g.ymax, g.tau, g.free_, g.stack, D)


cdef void _load(const Job* job, Group* g, Py_ssize_t l, Py_ssize_t r) noexcept nogil:
    """Put regimen r into lane l: start state, parameters, constant literals."""
    cdef Py_ssize_t i, q, c, e, N = job.N, E = job.E, nd = job.n_dyn
    cdef Py_ssize_t p = job.param_index[r]
    cdef const uint8_t* fixed = job.fixed_mask + r * N
    cdef const double* fv = job.fixed_value + r * N
    cdef const double* y0 = job.y0 + r * N
    cdef const double* tau = job.tau + p * N
    cdef const double* ymax = job.ymax + p * N
    cdef const double* w = job.w + p * E
    cdef const double* n = job.n + p * E
    cdef const double* B = job.B + p * E
    cdef const double* Kn = job.Kn + p * E
    cdef const uint8_t* lin = job.lin + p * E
    cdef double hmax
    for i in range(N):
        g.y[i * LANES + l] = fv[i] if fixed[i] else y0[i]
        g.free_[i * LANES + l] = 1.0 if (job.has_rule[i] and not fixed[i]) else 0.0
        g.tau[i * LANES + l] = tau[i]
        g.ymax[i * LANES + l] = ymax[i]
    if job.h_max > 0.0:
        hmax = job.h_max
    else:
        hmax = tau[0]
        for i in range(1, N):
            if tau[i] < hmax:
                hmax = tau[i]
    g.hmax[l] = hmax
    g.h[l] = job.h0
    g.t[l] = 0.0
    g.tries[l] = 0
    g.steps[l] = 0
    g.jt[l] = 0
    g.reg[l] = r
    g.active[l] = 1
    g.fresh[l] = 1
    for q in range(nd):
        e = job.slot_edge[q]
        g.pn[q * LANES + l] = n[e]
        g.pB[q * LANES + l] = B[e]
        g.pKn[q * LANES + l] = Kn[e]
        g.pw[q * LANES + l] = w[e]
        g.plin[q * LANES + l] = 1.0 if lin[e] else 0.0
    for c in range(E - nd):
        e = job.slot_edge[nd + c]
        g.cx[c] = _clip01(g.y[job.slot_src[nd + c] * LANES + l])
        g.cn[c] = n[e]
        g.cB[c] = B[e]
        g.cKn[c] = Kn[e]
        g.cw[c] = w[e]
        g.clin[c] = 1.0 if lin[e] else 0.0
    mm_hill(E - nd, g.cx, g.cn, g.cB, g.cKn, g.cw, g.clin, g.ch)
    for c in range(E - nd):
        g.ph[(nd + c) * LANES + l] = g.ch[c]


cdef int _refill(Job* job, Group* g) noexcept nogil:
    """Load the next regimens into idle lanes; returns how many were loaded."""
    cdef Py_ssize_t l, r
    cdef int loaded = 0
    for l in range(LANES):
        g.fresh[l] = 0
    for l in range(LANES):
        if g.active[l] or g.exhausted:
            continue
        r = mm_fetch_add(&job.next)
        if r >= job.R:
            g.exhausted = 1
            break
        _load(job, g, l, r)
        loaded += 1
    return loaded


cdef inline double _lane_settle_norm(const double* v, const double* tau, Py_ssize_t N,
                                     Py_ssize_t l) noexcept nogil:
    # reference _settle_norm: max_i max(|v_i|, |v_i| * tau_i) over the lane; NaN wins
    cdef Py_ssize_t i
    cdef double m = 0.0, a, s
    for i in range(N):
        a = fabs(v[i * LANES + l])
        s = a * tau[i * LANES + l]
        if a != a or s != s:
            return a + s
        if s > a:
            a = s
        if a > m:
            m = a
    return m


cdef int _attempt(const Job* job, Group* g) noexcept nogil:
    """One adaptive Dormand-Prince 5(4) attempt in every active lane (reference
    ``_advance``), towards each lane's ``t_stop``; returns how many lanes accepted.

    An accepting lane's y becomes clip(y_new, 0, 1), its k1 the derivative there and its time
    advances; every active lane gets its next step size.
    """
    cdef Py_ssize_t N = job.N, NL = job.N * LANES, i, st, l, idx
    cdef double* k = g.k
    cdef double* y = g.y
    cdef double tot[LANES]
    cdef double accl[LANES]
    cdef double fac
    cdef int n_acc = 0
    for l in range(LANES):
        g.hh[l] = (_nan_min(_nan_min(g.h[l], g.t_stop[l] - g.t[l]), g.hmax[l])
                   if g.active[l] else 0.0)
    for st in range(1, 7):
        mm_stage(NL, st, &DPA[st][0], g.hh, y, k, g.acc)
        _deriv(job, g, g.acc, k + st * NL)
    mm_error(N, DPW, g.hh, job.atol, job.rtol, y, k, g.ynew, tot)
    for l in range(LANES):
        g.en[l] = sqrt(tot[l] / N)
        g.accepted[l] = g.active[l] and g.en[l] <= 1.0
        accl[l] = 1.0 if g.accepted[l] else 0.0
        n_acc += g.accepted[l]
    if n_acc:
        for i in range(N):
            for l in range(LANES):
                idx = i * LANES + l
                y[idx] = _clip01(g.ynew[idx]) if accl[l] != 0.0 else y[idx]
        # k1 = f(y) in every lane: unchanged bits where y did not change
        _deriv(job, g, y, k)
        for l in range(LANES):
            if g.accepted[l]:
                g.t[l] = g.t[l] + g.hh[l]
    for l in range(LANES):
        if g.active[l]:
            fac = 0.9 * pow(_nan_max(g.en[l], 1e-10), -0.2)
            if fac < 0.2:
                fac = 0.2
            elif fac > 5.0:
                fac = 5.0
            g.h[l] = _nan_max(g.hh[l] * fac, 1e-10)
    return n_acc


cdef void _finish(Job* job, Group* g, Py_ssize_t l, int flag) noexcept nogil:
    """Write lane l's regimen out (steady state / rk4) and free the lane."""
    cdef Py_ssize_t i, r = g.reg[l], N = job.N
    if job.kind != KIND_COURSE:
        for i in range(N):
            job.y_out[r * N + i] = g.y[i * LANES + l]
    if job.kind == KIND_STEADY:
        job.steps_out[r] = g.steps[l]
        job.t_out[r] = g.t[l]
    if job.kind != KIND_RK4:
        job.flag_out[r] = flag
    g.active[l] = 0
    mm_fetch_add(&job.done)


cdef double POLL_S = 0.05   # thread 0 polls for signals at most every 50 ms of wall time


class _RunState:
    """What the polls of one kernel call share with Python: the progress callback, its
    interval, and the exception (KeyboardInterrupt, or one raised by the callback) that ends
    the run early."""

    def __init__(self, progress, interval):
        self.progress = progress
        self.interval = interval
        self.exc = None


cdef void _poll(Job* job, Group* g, double now) noexcept with gil:
    """Thread 0, between blocks of work: run pending signal handlers (Ctrl-C raises
    KeyboardInterrupt here) and report progress; an exception stops every thread."""
    cdef object st = <object>job.state
    cdef Py_ssize_t l
    cdef int64_t steps = 0
    if g != NULL:
        for l in range(LANES):
            if g.active[l] and g.tries[l] > steps:
                steps = g.tries[l]
    try:
        PyErr_CheckSignals()
        if st.progress is not None and now >= job.next_progress:
            job.next_progress = now + st.interval
            st.progress(int(mm_load_ssize(&job.done)), int(job.R), int(steps))
    except BaseException as exc:
        st.exc = exc
        mm_store_int(&job.stop, 1)


cdef inline int _check(Job* job, Group* g) noexcept nogil:
    """Called by every thread once per block of work (one step attempt for all its lanes);
    thread 0 polls Python at most every POLL_S seconds. Returns 1 when the run must stop."""
    cdef double now
    if g.master:
        now = mm_now()
        if now >= job.next_poll:
            job.next_poll = now + POLL_S
            _poll(job, g, now)
    return mm_load_int(&job.stop)


cdef void _wait_team(Job* job, Group* g) noexcept nogil:
    """Thread 0, its own work done: keep polling until the other threads finish or stop."""
    cdef int others = mm_team_size() - 1
    while mm_load_int(&job.left) < others and not mm_load_int(&job.stop):
        mm_sleep_ms(10)
        job.next_poll = 0.0
        _poll(job, g, mm_now())


cdef void _steady(Job* job, Group* g) noexcept nogil:
    cdef Py_ssize_t l, N = job.N
    cdef int n_active
    for l in range(LANES):
        g.t_stop[l] = INFINITY
    while True:
        if _check(job, g):
            break
        if _refill(job, g):
            _deriv(job, g, g.y, g.k)
            for l in range(LANES):
                if g.fresh[l] and _lane_settle_norm(g.k, g.tau, N, l) < job.tol:
                    _finish(job, g, l, 1)
            if not g.exhausted:
                n_active = 0
                for l in range(LANES):
                    n_active += g.active[l]
                if n_active < LANES:
                    continue
        n_active = 0
        for l in range(LANES):
            n_active += g.active[l]
        if n_active == 0:
            break
        _attempt(job, g)
        for l in range(LANES):
            if not g.active[l]:
                continue
            g.tries[l] += 1
            if g.accepted[l]:
                g.steps[l] += 1
                if _lane_settle_norm(g.k, g.tau, N, l) < job.tol:
                    _finish(job, g, l, 1)
                    continue
            if g.tries[l] >= job.max_steps:
                _finish(job, g, l, 0)


cdef void _course(Job* job, Group* g) noexcept nogil:
    cdef Py_ssize_t l, i, N = job.N, T = job.T, r
    cdef int n_active, finished
    cdef double tj, thr
    while True:
        if _check(job, g):
            break
        if _refill(job, g):
            _deriv(job, g, g.y, g.k)
        finished = 0
        for l in range(LANES):
            if not g.active[l]:
                continue
            r = g.reg[l]
            while g.jt[l] < T:
                tj = job.times[g.jt[l]]
                thr = tj - 1e-12 * (tj if tj > 1.0 else 1.0)
                if g.t[l] < thr and g.tries[l] < job.max_steps:
                    break
                for i in range(N):
                    job.course_out[(r * T + g.jt[l]) * N + i] = g.y[i * LANES + l]
                g.jt[l] += 1
            if g.jt[l] == T:
                _finish(job, g, l, g.tries[l] < job.max_steps)
                finished += 1
            else:
                g.t_stop[l] = job.times[g.jt[l]]
        if finished and not g.exhausted:
            continue
        n_active = 0
        for l in range(LANES):
            n_active += g.active[l]
        if n_active == 0:
            if g.exhausted:
                break
            continue
        _attempt(job, g)
        for l in range(LANES):
            if g.active[l]:
                g.tries[l] += 1


cdef void _rk4(Job* job, Group* g) noexcept nogil:
    cdef Py_ssize_t N = job.N, NL = job.N * LANES, i, step, l
    cdef double* y = g.y
    cdef double* k1 = g.k
    cdef double* k2 = g.k + NL
    cdef double* k3 = g.k + 2 * NL
    cdef double* k4 = g.k + 3 * NL
    cdef double* tmp = g.acc
    cdef double dt = job.dt, half = 0.5 * job.dt, sixth = job.dt / 6.0
    cdef int n_active
    while True:
        if _check(job, g):
            break
        _refill(job, g)
        n_active = 0
        for l in range(LANES):
            n_active += g.active[l]
        if n_active == 0:
            break
        for step in range(job.n_steps):
            if _check(job, g):
                return
            _deriv(job, g, y, k1)
            for i in range(NL):
                tmp[i] = y[i] + half * k1[i]
            _deriv(job, g, tmp, k2)
            for i in range(NL):
                tmp[i] = y[i] + half * k2[i]
            _deriv(job, g, tmp, k3)
            for i in range(NL):
                tmp[i] = y[i] + dt * k3[i]
            _deriv(job, g, tmp, k4)
            for i in range(NL):
                y[i] = y[i] + sixth * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
        for l in range(LANES):
            if g.active[l]:
                _finish(job, g, l, 1)


cdef int _mul_add(size_t* acc, size_t a, size_t b) noexcept nogil:
    """acc += a * b; returns -1 (acc unchanged) when that overflows size_t."""
    cdef size_t lim = <size_t>-1
    if b != 0 and a > lim / b:
        return -1
    if acc[0] > lim - a * b:
        return -1
    acc[0] += a * b
    return 0


cdef int _group_doubles(Py_ssize_t N, Py_ssize_t E, Py_ssize_t S, size_t* nd) noexcept nogil:
    """nd = doubles in one thread's buffer, 13 N L + 7 E L + S L + 7 E + L (L = LANES);
    returns -1 when a size is negative or the count, or its size in bytes, overflows."""
    nd[0] = 0
    if N < 0 or E < 0 or S < 0:
        return -1
    if (_mul_add(nd, <size_t>N, 13 * LANES) or _mul_add(nd, <size_t>E, 7 * LANES)
            or _mul_add(nd, <size_t>S, LANES) or _mul_add(nd, <size_t>E, 7)
            or _mul_add(nd, 1, LANES)):
        return -1
    if nd[0] > (<size_t>-1) / sizeof(double) / 2:
        return -1
    return 0


cdef Group* _group_new(const Job* job) noexcept nogil:
    """Allocate one thread's lanes (64-byte aligned), idle and holding finite dummy values;
    NULL when out of memory or when the buffer size would overflow."""
    cdef Py_ssize_t NL = job.N * LANES, EL = job.E * LANES, SL = job.max_stack * LANES
    cdef size_t nd
    cdef Py_ssize_t i
    cdef Group* g
    cdef double* buf
    if _group_doubles(job.N, job.E, job.max_stack, &nd) != 0:
        return NULL
    g = <Group*>malloc(sizeof(Group))
    if g == NULL:
        return NULL
    memset(g, 0, sizeof(Group))
    buf = <double*>mm_aligned_alloc(nd * sizeof(double))
    if buf == NULL:
        free(g)
        return NULL
    memset(buf, 0, nd * sizeof(double))
    g.y = buf
    g.k = buf + NL
    g.acc = buf + 8 * NL
    g.ynew = buf + 9 * NL
    g.tau = buf + 10 * NL
    g.ymax = buf + 11 * NL
    g.free_ = buf + 12 * NL
    g.px = buf + 13 * NL
    g.pn = g.px + EL
    g.pB = g.px + 2 * EL
    g.pKn = g.px + 3 * EL
    g.pw = g.px + 4 * EL
    g.plin = g.px + 5 * EL
    g.ph = g.px + 6 * EL
    g.stack = g.px + 7 * EL
    g.cx = g.stack + SL
    g.cn = g.cx + job.E
    g.cB = g.cx + 2 * job.E
    g.cKn = g.cx + 3 * job.E
    g.cw = g.cx + 4 * job.E
    g.clin = g.cx + 5 * job.E
    g.ch = g.cx + 6 * job.E
    for i in range(NL):
        g.tau[i] = 1.0
    for i in range(EL):
        g.pn[i] = 1.0
        g.pB[i] = 1.0
        g.pKn[i] = 1.0
        g.plin[i] = 1.0
    for i in range(LANES):
        g.h[i] = job.h0
        g.hmax[i] = 1.0
    return g


cdef void _group_free(Group* g) noexcept nogil:
    if g != NULL:
        mm_aligned_free(g.y)
        free(g)


cdef int _run(Job* job, int num_threads, uint8_t[::1] failed, progress=None,
              double progress_interval=1.0) except -1:
    """Every thread takes LANES lanes and works through the shared regimen counter.

    Thread 0 (the calling thread) polls between blocks of work: Ctrl-C (or any exception a
    signal handler raises) stops every thread, the buffers are freed and the exception is
    raised here; `progress(done, total, steps)` is called every `progress_interval` seconds
    once the run has lasted that long (done/total regimens, steps: the most step attempts of
    a regimen in thread 0's lanes)."""
    cdef int nt = num_threads if num_threads > 0 else mmmech_logic_default_threads()
    cdef Py_ssize_t groups = (job.R + LANES - 1) // LANES
    cdef Group* g
    cdef double t0 = mm_now()
    state = _RunState(progress, progress_interval)
    if nt < 1:
        nt = 1
    if nt > groups:
        nt = <int>groups
    job.next = 0
    job.done = 0
    job.state = <void*>state
    job.stop = 0
    job.left = 0
    job.next_poll = t0 + POLL_S
    job.next_progress = t0 + progress_interval
    with nogil, parallel(num_threads=nt):
        g = _group_new(job)
        if g == NULL:
            failed[0] = 1
        else:
            g.master = mm_thread_num() == 0
            if job.kind == KIND_STEADY:
                _steady(job, g)
            elif job.kind == KIND_COURSE:
                _course(job, g)
            else:
                _rk4(job, g)
        if mm_thread_num() == 0:
            _wait_team(job, g)
        else:
            mm_add_int(&job.left, 1)
        _group_free(g)
    job.state = NULL
    if state.exc is not None:
        raise state.exc
    if failed[0] and job.done != job.R:
        raise MemoryError("_logic kernel: could not allocate the per-thread buffers")
    if job.done != job.R:
        raise RuntimeError(f"_logic kernel: {job.done} of {job.R} regimens finished")
    return 0


cdef const double* _dptr(const float64_t[::1] a):
    return &a[0] if a.shape[0] > 0 else NULL


def _flat(a, dtype):
    return np.ascontiguousarray(np.asarray(a, dtype=dtype).ravel())


cdef class _Inputs:
    """Coerced arrays (kept alive while the kernel reads them through raw pointers) and the
    model's structure in the kernel's layout."""
    cdef object arrays
    cdef public Py_ssize_t R, N, E, P, max_stack

    def __init__(self, cm, reg):
        cdef size_t nd
        N = len(cm.nodes)
        prog_ptr = _flat(cm.prog_ptr, np.int64)
        prog_op = _flat(cm.prog_op, np.int32)
        prog_arg = _flat(cm.prog_arg, np.int32)
        edge_src = _flat(cm.edge_src, np.int32)
        E = edge_src.shape[0]
        p = reg.params
        w = np.ascontiguousarray(p.w, dtype=np.float64)
        n = np.ascontiguousarray(p.n, dtype=np.float64)
        ec50 = np.ascontiguousarray(p.ec50, dtype=np.float64)
        tau = np.ascontiguousarray(p.tau, dtype=np.float64)
        ymax = np.ascontiguousarray(p.ymax, dtype=np.float64)
        B, Kn, lin = _hill_coefficients(n, ec50)
        B = np.ascontiguousarray(B, dtype=np.float64)
        Kn = np.ascontiguousarray(Kn, dtype=np.float64)
        lin = np.ascontiguousarray(lin, dtype=np.uint8)
        P = w.shape[0] if w.ndim == 2 else 0
        fixed_mask = np.ascontiguousarray(reg.fixed_mask, dtype=np.uint8)
        fixed_value = np.ascontiguousarray(reg.fixed_value, dtype=np.float64)
        y0 = np.ascontiguousarray(reg.y0, dtype=np.float64)
        pidx = np.ascontiguousarray(reg.param_index, dtype=np.int64)
        R = pidx.shape[0]
        # Shapes must agree with each other (the values were checked by mmmech.propagate).
        expect = {"prog_ptr": (prog_ptr, (N + 1,)), "prog_arg": (prog_arg, prog_op.shape),
                  "edge_src": (edge_src, (E,)), "w": (w, (P, E)), "n": (n, (P, E)),
                  "tau": (tau, (P, N)), "ymax": (ymax, (P, N)), "fixed_mask": (fixed_mask, (R, N)),
                  "fixed_value": (fixed_value, (R, N)), "y0": (y0, (R, N))}
        for name, (arr, shape) in expect.items():
            if arr.shape != shape:
                raise ValueError(f"_logic kernel: {name} has shape {arr.shape}, expected {shape}")
        if N < 1 or R < 1 or P < 1:
            raise ValueError(f"_logic kernel: need N, R, P >= 1, got {N}, {R}, {P}")
        if int(prog_ptr[0]) != 0 or int(prog_ptr[N]) != prog_op.shape[0]:
            raise ValueError("_logic kernel: prog_ptr does not span the program")
        has_rule = np.ascontiguousarray(np.diff(prog_ptr) > 0, dtype=np.uint8)
        moving = has_rule[edge_src].astype(bool) if E else np.zeros(0, dtype=bool)
        slot_edge = np.concatenate([np.nonzero(moving)[0], np.nonzero(~moving)[0]])
        slot_edge = np.ascontiguousarray(slot_edge, dtype=np.int32)
        slot_of = np.empty(E, dtype=np.int64)
        slot_of[slot_edge] = np.arange(E)
        is_lit = prog_op == 0
        prog_slot = np.where(is_lit, slot_of[np.where(is_lit, prog_arg, 0)] if E else 0, prog_arg)
        self.arrays = dict(prog_ptr=prog_ptr, prog_op=prog_op,
                           prog_slot=np.ascontiguousarray(prog_slot, dtype=np.int32),
                           rule_nodes=np.ascontiguousarray(np.nonzero(has_rule)[0], dtype=np.int32),
                           has_rule=has_rule, slot_edge=slot_edge,
                           slot_src=np.ascontiguousarray(edge_src[slot_edge], dtype=np.int32),
                           n_dyn=int(moving.sum()),
                           w=w, n=n, B=B, Kn=Kn, lin=lin, tau=tau, ymax=ymax,
                           fixed_mask=fixed_mask, fixed_value=fixed_value, y0=y0, pidx=pidx)
        self.R, self.N, self.E, self.P = R, N, E, P
        ms = int(cm.max_stack)
        if not 1 <= ms <= max(1, prog_op.shape[0]):
            raise ValueError(f"_logic kernel: max_stack must lie in [1, "
                             f"{max(1, prog_op.shape[0])}], got {ms}")
        self.max_stack = ms
        if _group_doubles(N, E, ms, &nd) != 0:
            raise MemoryError(f"_logic kernel: per-thread buffer for {N} nodes, {E} edges and "
                              f"a stack of {ms} overflows the address space")

    cdef int fill(self, Job* job) except -1:
        a = self.arrays
        cdef const int64_t[::1] prog_ptr = a["prog_ptr"]
        cdef const int32_t[::1] prog_op = a["prog_op"]
        cdef const int32_t[::1] prog_slot = a["prog_slot"]
        cdef const int32_t[::1] rule_nodes = a["rule_nodes"]
        cdef const uint8_t[::1] has_rule = a["has_rule"]
        cdef const int32_t[::1] slot_edge = a["slot_edge"]
        cdef const int32_t[::1] slot_src = a["slot_src"]
        cdef const float64_t[::1] w = a["w"].ravel()
        cdef const float64_t[::1] n = a["n"].ravel()
        cdef const float64_t[::1] B = a["B"].ravel()
        cdef const float64_t[::1] Kn = a["Kn"].ravel()
        cdef const uint8_t[::1] lin = a["lin"].ravel()
        cdef const float64_t[::1] tau = a["tau"].ravel()
        cdef const float64_t[::1] ymax = a["ymax"].ravel()
        cdef const uint8_t[::1] fixed_mask = a["fixed_mask"].ravel()
        cdef const float64_t[::1] fixed_value = a["fixed_value"].ravel()
        cdef const float64_t[::1] y0 = a["y0"].ravel()
        cdef const int64_t[::1] pidx = a["pidx"]
        job.N = self.N
        job.E = self.E
        job.R = self.R
        job.max_stack = self.max_stack
        job.prog_ptr = &prog_ptr[0]
        job.prog_op = &prog_op[0] if prog_op.shape[0] else NULL
        job.prog_slot = &prog_slot[0] if prog_slot.shape[0] else NULL
        job.rule_nodes = &rule_nodes[0] if rule_nodes.shape[0] else NULL
        job.n_rule = rule_nodes.shape[0]
        job.has_rule = &has_rule[0]
        job.slot_edge = &slot_edge[0] if self.E else NULL
        job.slot_src = &slot_src[0] if self.E else NULL
        job.n_dyn = a["n_dyn"]
        job.w = _dptr(w)
        job.n = _dptr(n)
        job.B = _dptr(B)
        job.Kn = _dptr(Kn)
        job.lin = &lin[0] if self.E else NULL
        job.tau = &tau[0]
        job.ymax = &ymax[0]
        job.fixed_mask = &fixed_mask[0]
        job.fixed_value = &fixed_value[0]
        job.y0 = &y0[0]
        job.param_index = &pidx[0]
        return 0


def _cap(h_max):
    if h_max is None:
        return 0.0
    h_max = float(h_max)
    if not h_max > 0.0:
        raise ValueError(f"_logic kernel: h_max must be > 0 or None, got {h_max}")
    return h_max


def steady_state(cm, reg, double tol, double rtol, double atol, Py_ssize_t max_steps,
                 int num_threads=0, double h0=0.05, h_max=None, progress=None,
                 double progress_interval=1.0):
    """Integrate every regimen to steady state (see ``_logic_ref.steady_state``).

    `h_max` caps the step (default None: each regimen's smallest time constant).
    `progress(done, total, steps)` is called every `progress_interval` seconds of a long run;
    Ctrl-C raises KeyboardInterrupt within about 0.05 s of the signal (plus one step).

    Returns ``y (R, N), converged (R,) bool, steps (R,) int64, t (R,)``.
    """
    cdef _Inputs inp = _Inputs(cm, reg)
    cdef Job job
    if max_steps < 1:
        raise ValueError("_logic kernel: max_steps must be >= 1")
    y = np.empty((inp.R, inp.N), dtype=np.float64)
    conv = np.zeros(inp.R, dtype=np.uint8)
    steps = np.zeros(inp.R, dtype=np.int64)
    t = np.zeros(inp.R, dtype=np.float64)
    failed = np.zeros(1, dtype=np.uint8)
    cdef float64_t[:, ::1] y_v = y
    cdef uint8_t[::1] conv_v = conv
    cdef int64_t[::1] steps_v = steps
    cdef float64_t[::1] t_v = t
    memset(&job, 0, sizeof(Job))
    inp.fill(&job)
    job.kind = KIND_STEADY
    job.tol = tol
    job.rtol = rtol
    job.atol = atol
    job.max_steps = max_steps
    job.h0 = h0
    job.h_max = _cap(h_max)
    job.y_out = &y_v[0, 0]
    job.flag_out = &conv_v[0]
    job.steps_out = &steps_v[0]
    job.t_out = &t_v[0]
    _run(&job, num_threads, failed, progress, progress_interval)
    return y, conv.astype(bool), steps, t


def time_course(cm, reg, times, double rtol, double atol, Py_ssize_t max_steps,
                int num_threads=0, double h0=0.05, h_max=None, progress=None,
                double progress_interval=1.0):
    """Activities at `times` (T,); returns ``y (R, T, N), ok (R,) bool``."""
    cdef _Inputs inp = _Inputs(cm, reg)
    cdef Job job
    cdef const float64_t[::1] times_v = np.ascontiguousarray(times, dtype=np.float64)
    if times_v.shape[0] < 1:
        raise ValueError("_logic kernel: times must not be empty")
    if max_steps < 1:
        raise ValueError("_logic kernel: max_steps must be >= 1")
    out = np.empty((inp.R, times_v.shape[0], inp.N), dtype=np.float64)
    ok = np.zeros(inp.R, dtype=np.uint8)
    failed = np.zeros(1, dtype=np.uint8)
    cdef float64_t[:, :, ::1] out_v = out
    cdef uint8_t[::1] ok_v = ok
    memset(&job, 0, sizeof(Job))
    inp.fill(&job)
    job.kind = KIND_COURSE
    job.rtol = rtol
    job.atol = atol
    job.max_steps = max_steps
    job.h0 = h0
    job.h_max = _cap(h_max)
    job.times = &times_v[0]
    job.T = times_v.shape[0]
    job.course_out = &out_v[0, 0, 0]
    job.flag_out = &ok_v[0]
    _run(&job, num_threads, failed, progress, progress_interval)
    return out, ok.astype(bool)


def rk4_fixed(cm, reg, double dt, Py_ssize_t n_steps, int num_threads=0, progress=None,
              double progress_interval=1.0):
    """Classical RK4, `n_steps` fixed steps of size `dt`; returns y (R, N)."""
    cdef _Inputs inp = _Inputs(cm, reg)
    cdef Job job
    y = np.empty((inp.R, inp.N), dtype=np.float64)
    failed = np.zeros(1, dtype=np.uint8)
    cdef float64_t[:, ::1] y_v = y
    memset(&job, 0, sizeof(Job))
    inp.fill(&job)
    job.kind = KIND_RK4
    job.dt = dt
    job.n_steps = n_steps
    job.y_out = &y_v[0, 0]
    _run(&job, num_threads, failed, progress, progress_interval)
    return y
