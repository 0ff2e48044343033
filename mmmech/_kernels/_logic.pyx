# Logic-ODE kernels: R regimens of a compiled pathway model integrated at once.
#
# Same semantics, integrators, step-size control and stopping rules as the NumPy reference
# ``_logic_ref.py`` (read that file first: this one is its per-regimen transcription).
# Inputs are checked by mmmech.propagate before anything here runs; the def functions only
# coerce arrays, check that their shapes agree with each other, and allocate the outputs.
# Directives are set once in setup.py.
#
# Layout: every regimen is independent. ``prange`` hands regimens to threads (dynamic
# schedule: regimens need different numbers of steps); each thread owns one scratch buffer
# (7 Runge-Kutta stages, stage input, candidate state, edge values, evaluation stack) and
# each regimen writes only its own output row, so results do not depend on the thread count
# or on how regimens are batched.
#
# Structure exploited (exactly, the arithmetic is unchanged): an edge whose source node does
# not move in a regimen (a node without a rule, or a fixed node: knockout, setting, drug
# occupancy) has a constant literal value; it is evaluated once per regimen instead of at
# every derivative evaluation. Nodes that do not move are not evaluated at all.
from cython.parallel cimport parallel, prange
from libc.math cimport pow, fabs, sqrt, INFINITY
from libc.stdlib cimport malloc, free
from libc.string cimport memset
from libc.stdint cimport int64_t

import numpy as np

from ._typedefs cimport float64_t, int32_t, uint8_t

__all__ = ["steady_state", "time_course", "rk4_fixed", "openmp_enabled", "default_threads"]

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int mmmech_logic_default_threads(void) { return omp_get_max_threads(); }
    #else
    static int mmmech_logic_default_threads(void) { return 1; }
    #endif
    #ifndef MMMECH_HAVE_OPENMP
    #define MMMECH_HAVE_OPENMP 0
    #endif
    """
    int mmmech_logic_default_threads() noexcept nogil
    int MMMECH_HAVE_OPENMP

# The Hill transfer of many edges at once. x**n is computed as exp(n * log(x)) from series
# written out in C (frexp-style split, atanh series for log, Taylor series for exp; relative
# error about 1e-15 for x in [1e-300, 1]) so that the loop vectorizes; on x86-64 Linux with
# GCC it is compiled for SSE2, AVX2 and AVX-512 and the CPU picks one at load time. libm's pow
# is the cost that dominates otherwise (5-10 ns per call against about 1 ns here).
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <stddef.h>
    #if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
    #define MM_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
    #else
    #define MM_CLONES
    #endif

    static inline double mm_asdouble(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
    static inline uint64_t mm_asuint(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

    #define MM_LN2_HI 0x1.62e42fee00000p-1
    #define MM_LN2_LO 0x1.a39ef35793c76p-33
    #define MM_INV_LN2 0x1.71547652b82fep+0

    /* out[q] = w[q] * f(x[q]) with the normalized Hill function f (identity where lin[q] != 0),
       for x in [0, 1]; x^n = exp(n log x) from series written out here so that the loop
       vectorizes (no calls into libm). Relative error of x^n about 1e-15. */
    MM_CLONES
    static void mm_hill(Py_ssize_t m, const double* restrict x, const double* restrict n,
                        const double* restrict B, const double* restrict Kn,
                        const double* restrict w, const double* restrict lin,
                        double* restrict out)
    {
        for (Py_ssize_t q = 0; q < m; q++) {
            double xv = x[q];
            int tiny = xv < 0x1p-1000;
            double xs = tiny ? xv * 0x1p200 : xv;
            uint64_t bits = mm_asuint(xs);
            double e = (mm_asdouble((bits >> 52) | 0x4330000000000000ULL) - 0x1p52) - 1023.0;
            e = tiny ? e - 200.0 : e;
            double mant = mm_asdouble((bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);
            int big = mant > 1.4142135623730951;
            mant = big ? 0.5 * mant : mant;
            e = big ? e + 1.0 : e;
            double s = (mant - 1.0) / (mant + 1.0);
            double z = s * s;
            double p = 1.0 / 21.0;
            p = p * z + 1.0 / 19.0;
            p = p * z + 1.0 / 17.0;
            p = p * z + 1.0 / 15.0;
            p = p * z + 1.0 / 13.0;
            p = p * z + 1.0 / 11.0;
            p = p * z + 1.0 / 9.0;
            p = p * z + 1.0 / 7.0;
            p = p * z + 1.0 / 5.0;
            p = p * z + 1.0 / 3.0;
            double lnm = 2.0 * s + 2.0 * s * (z * p);
            double lnx = e * MM_LN2_HI + (e * MM_LN2_LO + lnm);
            double y = n[q] * lnx;
            double t = y * MM_INV_LN2 + 0x1.8p52;
            double k = t - 0x1.8p52;
            double r = (y - k * MM_LN2_HI) - k * MM_LN2_LO;
            double ex = 1.0 / 6227020800.0;
            ex = ex * r + 1.0 / 479001600.0;
            ex = ex * r + 1.0 / 39916800.0;
            ex = ex * r + 1.0 / 3628800.0;
            ex = ex * r + 1.0 / 362880.0;
            ex = ex * r + 1.0 / 40320.0;
            ex = ex * r + 1.0 / 5040.0;
            ex = ex * r + 1.0 / 720.0;
            ex = ex * r + 1.0 / 120.0;
            ex = ex * r + 1.0 / 24.0;
            ex = ex * r + 1.0 / 6.0;
            ex = ex * r + 0.5;
            ex = ex * r + 1.0;
            ex = ex * r + 1.0;
            uint64_t kb = mm_asuint(t) - 0x4338000000000000ULL;
            double xn = ex * mm_asdouble((kb + 1023ULL) << 52);
            xn = (y < -708.0 || xv <= 0.0) ? 0.0 : xn;
            double h = lin[q] != 0.0 ? xv : B[q] * xn / (Kn[q] + xn);
            h = xv != xv ? xv : h;
            out[q] = w[q] * h;
        }
    }
    """
    void mm_hill(Py_ssize_t m, const double* x, const double* n, const double* B,
                 const double* Kn, const double* w, const double* lin, double* out) noexcept nogil

# opcodes (mmmech.compiled)
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


def _load_tableau():
    from ._logic_ref import DP_A, DP_B, DP_E
    cdef int s, j
    for s in range(7):
        DPB[s] = float(DP_B[s])
        DPE[s] = float(DP_E[s])
        for j in range(7):
            DPA[s][j] = float(DP_A[s][j]) if j < len(DP_A[s]) else 0.0


_load_tableau()


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
    Py_ssize_t max_stack
    const int64_t* prog_ptr
    const int32_t* prog_op
    const int32_t* prog_arg
    const int32_t* edge_src
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


cdef struct Scratch:
    # per-regimen parameter rows
    const double* w
    const double* n
    const double* B
    const double* Kn
    const uint8_t* lin
    const double* tau
    const double* ymax
    # buffers (owned by the thread)
    double* k        # 7 * N stages
    double* acc      # N stage input
    double* ynew     # N candidate state
    double* hv       # E literal values
    double* stack    # max_stack
    uint8_t* free_   # N: the node follows its rule in this regimen
    int32_t* dyn     # E: edges whose source moves
    Py_ssize_t n_dyn
    # the moving edges' parameters packed contiguously (q = 0..n_dyn-1), for mm_hill
    int32_t* psrc
    double* pn
    double* pB
    double* pKn
    double* pw
    double* plin
    double* px       # clipped source activities
    double* ph       # literal values
    double h_max     # step cap of this regimen


cdef void _derivative(const Job* job, Scratch* s, const double* y, double* dy) noexcept nogil:
    """dy/dt of every node (zero for nodes that do not move)."""
    cdef Py_ssize_t i, q, e, sp, N = job.N
    cdef int op
    cdef double* stack = s.stack
    cdef double* hv = s.hv
    cdef double x
    for q in range(s.n_dyn):
        x = y[s.psrc[q]]
        if x < 0.0:
            x = 0.0
        elif x > 1.0:
            x = 1.0
        s.px[q] = x
    mm_hill(s.n_dyn, s.px, s.pn, s.pB, s.pKn, s.pw, s.plin, s.ph)
    for q in range(s.n_dyn):
        hv[s.dyn[q]] = s.ph[q]
    for i in range(N):
        if not s.free_[i]:
            dy[i] = 0.0
            continue
        sp = 0
        for q in range(job.prog_ptr[i], job.prog_ptr[i + 1]):
            op = job.prog_op[q]
            if op == OP_LIT:
                stack[sp] = hv[job.prog_arg[q]]
                sp += 1
            elif op == OP_CONST:
                stack[sp] = <double>job.prog_arg[q]
                sp += 1
            elif op == OP_NOT:
                stack[sp - 1] = 1.0 - stack[sp - 1]
            elif op == OP_AND:
                sp -= 1
                stack[sp - 1] = stack[sp - 1] * stack[sp]
            else:
                sp -= 1
                stack[sp - 1] = 1.0 - (1.0 - stack[sp - 1]) * (1.0 - stack[sp])
        dy[i] = (s.ymax[i] * stack[0] - y[i]) / s.tau[i]


cdef inline void _pack(Scratch* s, Py_ssize_t q, Py_ssize_t e) noexcept nogil:
    s.pn[q] = s.n[e]
    s.pB[q] = s.B[e]
    s.pKn[q] = s.Kn[e]
    s.pw[q] = s.w[e]
    s.plin[q] = 1.0 if s.lin[e] else 0.0


cdef void _setup(const Job* job, Scratch* s, Py_ssize_t r, double* y) noexcept nogil:
    """Point `s` at regimen r's parameters, set the start state y and the constant literals."""
    cdef Py_ssize_t i, e, q, N = job.N, E = job.E
    cdef double x
    cdef Py_ssize_t p = job.param_index[r]
    cdef const uint8_t* fixed = job.fixed_mask + r * N
    cdef const double* fv = job.fixed_value + r * N
    cdef const double* y0 = job.y0 + r * N
    s.w = job.w + p * E
    s.n = job.n + p * E
    s.B = job.B + p * E
    s.Kn = job.Kn + p * E
    s.lin = job.lin + p * E
    s.tau = job.tau + p * N
    s.ymax = job.ymax + p * N
    if job.h_max > 0.0:
        s.h_max = job.h_max
    else:
        s.h_max = s.tau[0]
        for i in range(1, N):
            if s.tau[i] < s.h_max:
                s.h_max = s.tau[i]
    for i in range(N):
        y[i] = fv[i] if fixed[i] else y0[i]
        s.free_[i] = (job.prog_ptr[i + 1] > job.prog_ptr[i]) and not fixed[i]
    # constant literals (source does not move) first, through the same transfer code
    q = 0
    for e in range(E):
        if not s.free_[job.edge_src[e]]:
            x = y[job.edge_src[e]]
            s.px[q] = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
            _pack(s, q, e)
            q += 1
    mm_hill(q, s.px, s.pn, s.pB, s.pKn, s.pw, s.plin, s.ph)
    q = 0
    for e in range(E):
        if not s.free_[job.edge_src[e]]:
            s.hv[e] = s.ph[q]
            q += 1
    # then the moving edges, packed for the derivative
    s.n_dyn = 0
    for e in range(E):
        if s.free_[job.edge_src[e]]:
            s.dyn[s.n_dyn] = <int32_t>e
            s.psrc[s.n_dyn] = job.edge_src[e]
            _pack(s, s.n_dyn, e)
            s.n_dyn += 1


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


cdef inline double _max_abs(const double* v, Py_ssize_t N) noexcept nogil:
    # np.max(np.abs(v)): NaN wins
    cdef Py_ssize_t i
    cdef double m = 0.0, a
    for i in range(N):
        a = fabs(v[i])
        if a != a:
            return a
        if a > m:
            m = a
    return m


cdef bint _advance(const Job* job, Scratch* s, double* y, double* h, double* t,
                   double t_stop) noexcept nogil:
    """One adaptive Dormand-Prince 5(4) attempt (reference ``_advance``); True if accepted.

    On acceptance y becomes clip(y_new, 0, 1), k1 its derivative and t advances; h is the
    next step size in both cases.
    """
    cdef Py_ssize_t N = job.N, i, st, j
    cdef double* k = s.k
    cdef double* acc = s.acc
    cdef double* ynew = s.ynew
    cdef double hh, a, c, sb, se, errv, scale, ay, an, en, fac, total = 0.0
    cdef bint accept
    hh = _nan_min(_nan_min(h[0], t_stop - t[0]), s.h_max)
    for st in range(1, 7):
        for i in range(N):
            acc[i] = y[i]
        for j in range(st):
            a = DPA[st][j]
            if a != 0.0:
                c = hh * a
                for i in range(N):
                    acc[i] += c * k[j * N + i]
        _derivative(job, s, acc, k + st * N)
    for i in range(N):
        sb = 0.0
        se = 0.0
        for j in range(7):
            if DPB[j] != 0.0:
                sb = sb + DPB[j] * k[j * N + i]
            if DPE[j] != 0.0:
                se = se + DPE[j] * k[j * N + i]
        ynew[i] = y[i] + hh * sb
        errv = hh * se
        ay = fabs(y[i])
        an = fabs(ynew[i])
        scale = job.atol + job.rtol * _nan_max(ay, an)
        errv = errv / scale
        total += errv * errv
    en = sqrt(total / N)
    accept = en <= 1.0
    if accept:
        for i in range(N):
            a = ynew[i]
            if a < 0.0:
                a = 0.0
            elif a > 1.0:
                a = 1.0
            y[i] = a
        _derivative(job, s, y, k)
        t[0] = t[0] + hh
    fac = 0.9 * pow(_nan_max(en, 1e-10), -0.2)
    if fac < 0.2:
        fac = 0.2
    elif fac > 5.0:
        fac = 5.0
    h[0] = _nan_max(hh * fac, 1e-10)
    return accept


cdef void _steady_one(const Job* job, Scratch* s, Py_ssize_t r) noexcept nogil:
    cdef Py_ssize_t N = job.N
    cdef double* y = job.y_out + r * N
    cdef double h = job.h0, t = 0.0
    cdef Py_ssize_t tries = 0
    cdef int64_t steps = 0
    cdef bint conv
    _setup(job, s, r, y)
    _derivative(job, s, y, s.k)
    conv = _max_abs(s.k, N) < job.tol
    while not conv and tries < job.max_steps:
        if _advance(job, s, y, &h, &t, INFINITY):
            steps += 1
            if _max_abs(s.k, N) < job.tol:
                conv = True
        tries += 1
    job.flag_out[r] = conv
    job.steps_out[r] = steps
    job.t_out[r] = t


cdef void _course_one(const Job* job, Scratch* s, Py_ssize_t r) noexcept nogil:
    cdef Py_ssize_t N = job.N, T = job.T, jt, i
    cdef double* y = s.ynew + N    # state lives past the candidate buffer (see allocation)
    cdef double* out = job.course_out + r * T * N
    cdef double h = job.h0, t = 0.0, tj, thr
    cdef Py_ssize_t tries = 0
    _setup(job, s, r, y)
    _derivative(job, s, y, s.k)
    for jt in range(T):
        tj = job.times[jt]
        thr = tj - 1e-12 * (tj if tj > 1.0 else 1.0)
        while t < thr and tries < job.max_steps:
            _advance(job, s, y, &h, &t, tj)
            tries += 1
        for i in range(N):
            out[jt * N + i] = y[i]
    job.flag_out[r] = tries < job.max_steps


cdef void _rk4_one(const Job* job, Scratch* s, Py_ssize_t r) noexcept nogil:
    cdef Py_ssize_t N = job.N, i, step
    cdef double* y = job.y_out + r * N
    cdef double* k1 = s.k
    cdef double* k2 = s.k + N
    cdef double* k3 = s.k + 2 * N
    cdef double* k4 = s.k + 3 * N
    cdef double* tmp = s.acc
    cdef double dt = job.dt, half = 0.5 * job.dt, sixth = job.dt / 6.0
    _setup(job, s, r, y)
    for step in range(job.n_steps):
        _derivative(job, s, y, k1)
        for i in range(N):
            tmp[i] = y[i] + half * k1[i]
        _derivative(job, s, tmp, k2)
        for i in range(N):
            tmp[i] = y[i] + half * k2[i]
        _derivative(job, s, tmp, k3)
        for i in range(N):
            tmp[i] = y[i] + dt * k3[i]
        _derivative(job, s, tmp, k4)
        for i in range(N):
            y[i] = y[i] + sixth * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


cdef inline void _one(const Job* job, Scratch* s, Py_ssize_t r) noexcept nogil:
    if job.kind == KIND_STEADY:
        _steady_one(job, s, r)
    elif job.kind == KIND_COURSE:
        _course_one(job, s, r)
    else:
        _rk4_one(job, s, r)


cdef int _run(Job* job, Py_ssize_t R, int num_threads, uint8_t[::1] failed) except -1:
    """Run every regimen, in parallel over regimens; per-thread scratch buffers."""
    cdef Py_ssize_t N = job.N, E = job.E, r
    cdef Py_ssize_t nd = 10 * N + 8 * E + job.max_stack + 1
    cdef Py_ssize_t ni = 2 * E + 1
    cdef Py_ssize_t nu = N + 1
    cdef int nt = num_threads if num_threads > 0 else mmmech_logic_default_threads()
    cdef double* dbuf
    cdef int32_t* ibuf
    cdef uint8_t* ubuf
    cdef Scratch* s
    if nt < 1:
        nt = 1
    if nt > R:
        nt = <int>R
    with nogil, parallel(num_threads=nt):
        # every name assigned in this block is private to its thread
        s = <Scratch*>malloc(sizeof(Scratch))
        dbuf = <double*>malloc(nd * sizeof(double))
        ibuf = <int32_t*>malloc(ni * sizeof(int32_t))
        ubuf = <uint8_t*>malloc(nu * sizeof(uint8_t))
        if s != NULL and dbuf != NULL and ibuf != NULL and ubuf != NULL:
            s.k = dbuf
            s.acc = dbuf + 7 * N
            s.ynew = dbuf + 8 * N          # N candidate state, then N state (time course)
            s.hv = dbuf + 10 * N
            s.pn = dbuf + 10 * N + E
            s.pB = dbuf + 10 * N + 2 * E
            s.pKn = dbuf + 10 * N + 3 * E
            s.pw = dbuf + 10 * N + 4 * E
            s.plin = dbuf + 10 * N + 5 * E
            s.px = dbuf + 10 * N + 6 * E
            s.ph = dbuf + 10 * N + 7 * E
            s.stack = dbuf + 10 * N + 8 * E
            s.dyn = ibuf
            s.psrc = ibuf + E
            s.free_ = ubuf
        for r in prange(R, schedule="dynamic"):
            if s != NULL and dbuf != NULL and ibuf != NULL and ubuf != NULL:
                _one(job, s, r)
            else:
                failed[r] = 1
        free(s)
        free(dbuf)
        free(ibuf)
        free(ubuf)
    return 0


cdef const double* _dptr(const float64_t[::1] a):
    return &a[0] if a.shape[0] > 0 else NULL


def _flat(a, dtype):
    return np.ascontiguousarray(np.asarray(a, dtype=dtype).ravel())


cdef class _Inputs:
    """Keeps the coerced arrays alive while the kernel reads them through raw pointers."""
    cdef object arrays
    cdef public Py_ssize_t R, N, E, P, max_stack

    def __init__(self, cm, reg):
        from ..compiled import hill_coefficients
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
        B, Kn, lin = hill_coefficients(n, ec50)
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
        self.arrays = dict(prog_ptr=prog_ptr, prog_op=prog_op, prog_arg=prog_arg,
                           edge_src=edge_src, w=w, n=n, B=B, Kn=Kn, lin=lin, tau=tau, ymax=ymax,
                           fixed_mask=fixed_mask, fixed_value=fixed_value, y0=y0, pidx=pidx)
        self.R, self.N, self.E, self.P = R, N, E, P
        self.max_stack = max(1, int(cm.max_stack))

    cdef int fill(self, Job* job) except -1:
        a = self.arrays
        cdef const int64_t[::1] prog_ptr = a["prog_ptr"]
        cdef const int32_t[::1] prog_op = a["prog_op"]
        cdef const int32_t[::1] prog_arg = a["prog_arg"]
        cdef const int32_t[::1] edge_src = a["edge_src"]
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
        job.max_stack = self.max_stack
        job.prog_ptr = &prog_ptr[0]
        job.prog_op = &prog_op[0] if prog_op.shape[0] else NULL
        job.prog_arg = &prog_arg[0] if prog_arg.shape[0] else NULL
        job.edge_src = &edge_src[0] if self.E else NULL
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


def _check_failed(failed):
    if np.any(failed):
        raise MemoryError("_logic kernel: could not allocate the per-thread scratch buffers")


def steady_state(cm, reg, double tol, double rtol, double atol, Py_ssize_t max_steps,
                 int num_threads=0, double h0=0.05, h_max=None):
    """Integrate every regimen to steady state (see ``_logic_ref.steady_state``).

    `h_max` caps the step (default None: each regimen's smallest time constant).

    Returns ``y (R, N), converged (R,) bool, steps (R,) int64, t (R,)``.
    """
    cdef _Inputs inp = _Inputs(cm, reg)
    cdef Job job
    y = np.empty((inp.R, inp.N), dtype=np.float64)
    conv = np.zeros(inp.R, dtype=np.uint8)
    steps = np.zeros(inp.R, dtype=np.int64)
    t = np.zeros(inp.R, dtype=np.float64)
    failed = np.zeros(inp.R, dtype=np.uint8)
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
    _run(&job, inp.R, num_threads, failed)
    _check_failed(failed)
    return y, conv.astype(bool), steps, t


def time_course(cm, reg, times, double rtol, double atol, Py_ssize_t max_steps,
                int num_threads=0, double h0=0.05, h_max=None):
    """Activities at `times` (T,); returns ``y (R, T, N), ok (R,) bool``."""
    cdef _Inputs inp = _Inputs(cm, reg)
    cdef Job job
    cdef const float64_t[::1] times_v = np.ascontiguousarray(times, dtype=np.float64)
    if times_v.shape[0] < 1:
        raise ValueError("_logic kernel: times must not be empty")
    out = np.empty((inp.R, times_v.shape[0], inp.N), dtype=np.float64)
    ok = np.zeros(inp.R, dtype=np.uint8)
    failed = np.zeros(inp.R, dtype=np.uint8)
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
    _run(&job, inp.R, num_threads, failed)
    _check_failed(failed)
    return out, ok.astype(bool)


def rk4_fixed(cm, reg, double dt, Py_ssize_t n_steps, int num_threads=0):
    """Classical RK4, `n_steps` fixed steps of size `dt`; returns y (R, N)."""
    cdef _Inputs inp = _Inputs(cm, reg)
    cdef Job job
    y = np.empty((inp.R, inp.N), dtype=np.float64)
    failed = np.zeros(inp.R, dtype=np.uint8)
    cdef float64_t[:, ::1] y_v = y
    memset(&job, 0, sizeof(Job))
    inp.fill(&job)
    job.kind = KIND_RK4
    job.dt = dt
    job.n_steps = n_steps
    job.y_out = &y_v[0, 0]
    _run(&job, inp.R, num_threads, failed)
    _check_failed(failed)
    return y
