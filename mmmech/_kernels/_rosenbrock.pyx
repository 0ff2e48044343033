# Rosenbrock (linearly implicit) course kernel: R regimens of a compiled pathway model integrated
# through K intervals of piecewise-constant held inputs in one call.
#
# Mathematics, tableau, error control and step-size rules: the NumPy reference
# ``_rosenbrock_ref.py`` (read it first). Inputs are checked by mmmech.dynamics._course before
# anything here runs; this file only coerces arrays and checks that their shapes agree.
#
# Layout as the logic kernel (_logic.pyx): each thread integrates LANES regimens side by side,
# node and edge values lane-interleaved, every lane with its own step size, time and interval;
# lanes advance in lock step (one step attempt for all at once). The matrix W = I/(gamma h) - J
# is factored sparsely in the fixed order of ``_rosenbrock_ref.structure`` (no pivoting; a lane
# whose pivot vanishes rejects the step and halves it); inside the kernel the nodes are renumbered,
# rule nodes first in that order, so the solves run in place and the stage loops cover the rule
# nodes only (the state is mapped back on return). Per lane the arithmetic does not depend
# on the other lanes, so results do not depend on the thread count or on batching.
# method="expdp5" (_attempt_exp, round 8): the explicit Dormand-Prince 5(4) pair in Lawson form
# about each step's start (no Jacobian, LU or solve); same lanes, step rules and bookkeeping.
from cython.parallel cimport parallel, prange
from libc.math cimport pow, fabs, sqrt
from libc.stdlib cimport malloc, free
from libc.string cimport memset, memcpy
from libc.stdint cimport int64_t
from cpython.exc cimport PyErr_CheckSignals

from types import SimpleNamespace

import numpy as np

from ._tables import hill_tables as _hill_tables
from ._bytecode import hill_coefficients as _hill_coefficients
from . import _rosenbrock_ref as _ref

from ._typedefs cimport float64_t, int32_t, uint8_t

__all__ = ["course", "relax_course", "LANES", "openmp_enabled"]

cdef extern from "_rosenbrock_helpers.h":
    enum: MM_LANES
    int MMMECH_HAVE_OPENMP
    int mm_thread_num() noexcept nogil
    void* mm_aligned_alloc(size_t n) noexcept nogil
    void mm_aligned_free(void* p) noexcept nogil
    int mm_load_int(int* p) noexcept nogil
    void mm_store_int(int* p, int v) noexcept nogil
    void mm_set_tables(const double* invc, const double* logc, const double* exp2t) noexcept nogil
    void mm_hill(Py_ssize_t m, const double* x, const double* n, const double* B,
                 const double* Kn, const double* w, const double* lin, double* out) noexcept nogil
    void mr_rules(Py_ssize_t n_rule, const int32_t* rule_nodes, const int32_t* nl_ptr,
                  const int32_t* nl_op, const int32_t* nl_out, const int32_t* nl_a1,
                  const int32_t* nl_a2, const int32_t* fval, const double* X,
                  const double* ymax, const double* tau, const double* fr, double* v,
                  double* D) noexcept nogil
    void mr_pow(Py_ssize_t npow, Py_ssize_t nxn, const int32_t* gsrc, const double* X,
                const double* gn, double* pxg, double* xnb) noexcept nogil
    void mr_hill_pow(Py_ssize_t nd, const int32_t* pow_id, const double* pxg, const double* xnb,
                     const double* B, const double* Kn, const double* w, const double* lin,
                     double* out) noexcept nogil
    void mr_hill_d(Py_ssize_t nd, const int32_t* src, const int32_t* pow_id, const double* X,
                   const double* pxg, const double* ph, const double* n, const double* B,
                   const double* Kn, const double* w, const double* lin,
                   double* dh) noexcept nogil
    void mr_matrix(Py_ssize_t m, const int32_t* perm, const int32_t* diag_pos, Py_ssize_t nnz,
                   Py_ssize_t n_rule, const int32_t* rule_nodes, const int64_t* prog_ptr,
                   const int32_t* prog_op, const int32_t* prog_slot, const int32_t* arg1,
                   const int32_t* arg2, const int32_t* vidx, const int32_t* lit_pos,
                   const double* v, double* adj,
                   const double* dh, const double* ymax, const double* tau, const double* fr,
                   const double* inv_gh, double* a) noexcept nogil
    void mr_lu(Py_ssize_t m, const int32_t* diag_pos, const int32_t* l_ptr, const int32_t* l_pos,
               const int32_t* upd_ptr, const int32_t* upd_dst, const int32_t* upd_l,
               const int32_t* upd_u, double* a, double* dinv, int* bad) noexcept nogil
    void mr_solve(Py_ssize_t m, const int32_t* l_ptr, const int32_t* l_pos,
                  const int32_t* l_row, const int32_t* u_ptr, const int32_t* u_pos,
                  const int32_t* u_col, const double* a, const double* dinv,
                  double* b) noexcept nogil
    void mr_errnorm(Py_ssize_t N, Py_ssize_t NL, Py_ssize_t ns, const double* re,
                    const double* Ks, const double* y, const double* ynew, double atol,
                    double rtol, double* en) noexcept nogil
    void mr_fnorm(Py_ssize_t N, const double* F, const double* y, double atol, double rtol,
                  double* en) noexcept nogil
    void mr_comb(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t s, const double* coef, const double* y,
                 const double* K, double* acc) noexcept nogil
    void mr_stage(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t s, const double* a, const double* hh,
                  const double* y, const double* k, double* acc) noexcept nogil
    void mx_prep(Py_ssize_t m, Py_ssize_t NL, int ns, const double* c, const double* lam,
                 const double* hh, const double* N0, const double* y, double* al, double* ial,
                 double* gs, double* z) noexcept nogil
    void mx_stage(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t s, const double* a, const double* hh,
                  const double* gs, const double* al_s, const double* z, const double* Rt,
                  double* U) noexcept nogil
    void mx_rt(Py_ssize_t n, const double* F, const double* lam, const double* U,
               const double* N0, const double* ial_s, double* Rt_s, double* Nn) noexcept nogil
    void mx_err(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t ns, const double* e, const double* hh,
                const double* al_last, const double* Rt, double* er) noexcept nogil


def _set_tables():
    """Fill this module's copy of the mm_hill tables (mmmech._kernels._tables)."""
    invc, logc, exp2t = _hill_tables()
    cdef const double[::1] a = invc
    cdef const double[::1] b = logc
    cdef const double[::1] c = exp2t
    mm_set_tables(&a[0], &b[0], &c[0])


_set_tables()

cdef enum:
    LANES = MM_LANES
    SMAX = 8

# tableau (from the reference at import: the same double constants)
cdef int NS
cdef double RA[SMAX][SMAX]
cdef double RC[SMAX][SMAX]
cdef double RM[SMAX]
cdef double RE[SMAX]
cdef int RNEWF[SMAX]
cdef double RGAMMA, RELO, FMIN, FMAX, FSAFE
# expdp5 (explicit, Lawson form; see _rosenbrock_ref: EXP_*)
cdef int XS
cdef double XA[SMAX][SMAX]
cdef double XC[SMAX]
cdef double XE[SMAX]
cdef double XELO


def _load_tableau():
    global NS, RGAMMA, RELO, FMIN, FMAX, FSAFE
    cdef int s, j
    NS = len(_ref.ROS_M)
    if NS > SMAX:
        raise ImportError("mmmech._kernels._rosenbrock: too many stages")
    for s in range(SMAX):
        RM[s] = float(_ref.ROS_M[s]) if s < NS else 0.0
        RE[s] = float(_ref.ROS_E[s]) if s < NS else 0.0
        RNEWF[s] = 1 if (s < NS and _ref.ROS_NEWF[s]) else 0
        for j in range(SMAX):
            RA[s][j] = float(_ref.ROS_A[s][j]) if (s < NS and j < s) else 0.0
            RC[s][j] = float(_ref.ROS_C[s][j]) if (s < NS and j < s) else 0.0
    RGAMMA = float(_ref.ROS_GAMMA)
    global XS, XELO
    XS = len(_ref.EXP_C)
    if XS > SMAX:
        raise ImportError("mmmech._kernels._rosenbrock: too many stages")
    for s in range(SMAX):
        XC[s] = float(_ref.EXP_C[s]) if s < XS else 0.0
        XE[s] = float(_ref.EXP_E[s]) if s < XS else 0.0
        for j in range(SMAX):
            XA[s][j] = float(_ref.EXP_A[s][j]) if (s < XS and j < s) else 0.0
    XELO = float(_ref.EXP_ELO)
    RELO = float(_ref.ROS_ELO)
    FMIN = float(_ref.FAC_MIN)
    FMAX = float(_ref.FAC_MAX)
    FSAFE = float(_ref.FAC_SAFE)


_load_tableau()
globals()["LANES"] = LANES


def openmp_enabled():
    return MMMECH_HAVE_OPENMP != 0


cdef struct Job:
    Py_ssize_t N, E, R, K, C, M, nd, n_ops, n_rule, m, nnz, npow
    Py_ssize_t npow_xn         # the first npow_xn groups need x^n (the rest: identity edges only)
    Py_ssize_t n_val           # E + the ops that are not literals: values per lane (v, adj)
    Py_ssize_t n_in            # constant slots (after the nd moving ones) read from `cols`
    const int32_t* pow_rep     # (npow,) a moving slot of each group sharing source and exponent
    const int32_t* pow_src     # (npow,) the source node of each group
    const int32_t* pow_id      # (nd,) the group of each moving slot
    const int32_t* nl_ptr      # (n_rule + 1,) each rule's ops that are not literals: nl_*
    const int32_t* nl_op
    const int32_t* nl_out      # value index written
    const int32_t* nl_a1       # value indices read (NOT: a1; AND, OR: a1, a2); CONST: a2 = c
    const int32_t* nl_a2
    const int32_t* fval        # (n_rule,) value index of each rule's result
    const int32_t* vidx        # (n_ops,) value index of each program op
    const int32_t* a1v         # (n_ops,) operands as value indices (-1: none)
    const int32_t* a2v
    const int64_t* prog_ptr
    const int32_t* prog_op
    const int32_t* prog_slot
    const int32_t* arg1
    const int32_t* arg2
    const int32_t* rule_nodes
    const uint8_t* has_rule
    const int32_t* slot_edge
    const int32_t* slot_src
    const int32_t* lit_pos
    const int32_t* perm
    const int32_t* diag_pos
    const int32_t* l_ptr
    const int32_t* l_pos
    const int32_t* l_row
    const int32_t* u_ptr
    const int32_t* u_pos
    const int32_t* u_col
    const int32_t* upd_ptr
    const int32_t* upd_dst
    const int32_t* upd_l
    const int32_t* upd_u
    const double* w
    const double* n
    const double* B
    const double* Kn
    const uint8_t* lin
    const double* tau
    const double* ymax
    const uint8_t* fixed_mask
    const double* fixed_value
    const double* y0
    const int64_t* param_index
    const int32_t* cols
    const double* values      # (R, K, C)
    const int32_t* out_nodes
    double dt, rtol, atol, h0
    double stretch            # >= 1: a step leaving less than (stretch - 1) h is stretched
    int jump                  # 1: an interval's first step is predicted from the previous
                              # interval's (see _rosenbrock_ref: jump_step)
    double norm_n             # the error norm's mean is over this many nodes (>= N)
    double jq                 # JUMP_Q: the error's exponent in h assumed for that first step
    Py_ssize_t max_steps
    Py_ssize_t fixed       # > 0: exactly `fixed` steps of dt / fixed per interval, no error control
    int method                # 0: RODAS4; 1: expdp5 (explicit, Lawson form)
    double elo                # the step factor is err^(-1 / elo)
    double* out               # (R, K + 1, M)
    double* y_out             # (R, N)
    uint8_t* ok_out
    int64_t* steps_out
    int stop


cdef struct Group:
    double* y
    double* ynew
    double* U
    double* F
    double* F0
    double* Ks      # NS * NL
    double* tau
    double* ymax
    double* fr
    double* pn
    double* gn      # npow * L: each group's Hill exponent
    double* pxg     # npow * L: each group's clipped source activity
    double* pB
    double* pKn
    double* pw
    double* plin
    double* dh
    double* cn      # constant edges' parameters (E - nd) * L
    double* cB
    double* cKn
    double* cw
    double* clin
    double* cx
    double* v       # n_val * L: literals in slot order (E), then the other ops' values
    double* adj     # n_val * L
    double* a       # nnz * L
    double* dinv    # m * L
    double* xnb     # npow * L: x^n per group of moving edges (mr_pow)
    # expdp5 only: rate L = free / tau, N(y_n) of the step's start, N of the last stage (FSAL),
    # shift g = N(y_n) / L, z = y_n - g, stage factors exp(-L c_s h), R_s / exp(-L c_s h), error
    double* lam
    double* N0
    double* Nn
    double* gs
    double* z
    double* al      # SMAX * NL
    double* ial     # SMAX * NL: 1 / al
    double* Rt      # SMAX * NL
    double* er
    int need0[LANES]          # N(y) must be evaluated before the next attempt (expdp5)
    int acc[LANES]            # the last attempt was accepted
    double hh[LANES]
    double inv_h[LANES]
    double inv_gh[LANES]
    double h[LANES]
    double t[LANES]
    int64_t tries[LANES]
    double hj[LANES]          # predicted first step of the next interval (0: none yet)
    double nfj[LANES]         # ||f(y)|| at the start of the interval hj was learned in
    double nf[LANES]          # ||f(y)|| at the start of this interval
    int first[LANES]          # no step accepted yet in this interval
    int64_t steps[LANES]
    Py_ssize_t reg[LANES]
    Py_ssize_t k[LANES]
    int active[LANES]
    int rejected[LANES]
    int ok[LANES]
    int bad[LANES]


cdef Py_ssize_t _group_doubles(const Job* job) noexcept nogil:
    cdef Py_ssize_t NL = job.N * LANES, EL = job.E * LANES
    return ((14 + NS + 3 * SMAX) * NL + 6 * EL + 6 * (job.E - job.nd) * LANES + 2 * job.n_val * LANES
            + job.nnz * LANES + job.m * LANES + 3 * job.npow * LANES)


cdef Group* _group_new(const Job* job) noexcept nogil:
    cdef Py_ssize_t NL = job.N * LANES, EL = job.E * LANES, CL = (job.E - job.nd) * LANES
    cdef Py_ssize_t nd = _group_doubles(job), i
    cdef Group* g = <Group*>malloc(sizeof(Group))
    cdef double* p
    if g == NULL:
        return NULL
    memset(g, 0, sizeof(Group))
    p = <double*>mm_aligned_alloc(<size_t>nd * sizeof(double))
    if p == NULL:
        free(g)
        return NULL
    memset(p, 0, <size_t>nd * sizeof(double))
    g.y = p; p += NL
    g.ynew = p; p += NL
    g.U = p; p += NL
    g.F = p; p += NL
    g.F0 = p; p += NL
    g.tau = p; p += NL
    g.ymax = p; p += NL
    g.fr = p; p += NL
    g.Ks = p; p += NS * NL
    g.pn = p; p += EL
    g.pB = p; p += EL
    g.pKn = p; p += EL
    g.pw = p; p += EL
    g.plin = p; p += EL
    g.dh = p; p += EL
    g.cn = p; p += CL
    g.cB = p; p += CL
    g.cKn = p; p += CL
    g.cw = p; p += CL
    g.clin = p; p += CL
    g.cx = p; p += CL
    g.v = p; p += job.n_val * LANES
    g.adj = p; p += job.n_val * LANES
    g.a = p; p += job.nnz * LANES
    g.dinv = p; p += job.m * LANES
    g.xnb = p; p += job.npow * LANES
    g.gn = p; p += job.npow * LANES
    g.pxg = p; p += job.npow * LANES
    g.lam = p; p += NL
    g.N0 = p; p += NL
    g.Nn = p; p += NL
    g.gs = p; p += NL
    g.z = p; p += NL
    g.er = p; p += NL
    g.al = p; p += SMAX * NL
    g.ial = p; p += SMAX * NL
    g.Rt = p; p += SMAX * NL
    # idle lanes hold finite dummy values (tau 1, Hill slope 1, ...)
    for i in range(NL):
        g.tau[i] = 1.0
    for i in range(job.npow * LANES):
        g.gn[i] = 1.0
        g.xnb[i] = 0.0  # never written for identity-only groups (mr_pow), never selected
    for i in range(EL):
        g.pn[i] = 1.0
        g.pB[i] = 1.0
        g.pKn[i] = 1.0
        g.plin[i] = 1.0
    for i in range(CL):
        g.cn[i] = 1.0
        g.cB[i] = 1.0
        g.cKn[i] = 1.0
        g.clin[i] = 1.0
    for i in range(LANES):
        g.hh[i] = 1.0
        g.h[i] = 1.0
    return g


cdef void _group_free(Group* g) noexcept nogil:
    if g != NULL:
        mm_aligned_free(g.y)
        free(g)


cdef inline void _deriv(const Job* job, Group* g, const double* X, double* D) noexcept nogil:
    # mm_hill's arithmetic with x^n computed once per (source, exponent) group, written into the
    # literal slots of v
    mr_pow(job.npow, job.npow_xn, job.pow_src, X, g.gn, g.pxg, g.xnb)
    mr_hill_pow(job.nd, job.pow_id, g.pxg, g.xnb, g.pB, g.pKn, g.pw, g.plin, g.v)
    mr_rules(job.n_rule, job.rule_nodes, job.nl_ptr, job.nl_op, job.nl_out, job.nl_a1,
             job.nl_a2, job.fval, X, g.ymax, g.tau, g.fr, g.v, D)


cdef void _const_literals(const Job* job, Group* g, Py_ssize_t c0, Py_ssize_t c1) noexcept nogil:
    """Literals of the constant slots c0..c1-1 (edges whose source has no rule: held values),
    every lane, into their slots of v."""
    cdef Py_ssize_t c, l, nd = job.nd
    cdef double v
    if c1 <= c0:
        return
    for c in range(c0, c1):
        for l in range(LANES):
            v = g.y[job.slot_src[nd + c] * LANES + l]
            g.cx[c * LANES + l] = 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)
    mm_hill((c1 - c0) * LANES, g.cx + c0 * LANES, g.cn + c0 * LANES, g.cB + c0 * LANES,
            g.cKn + c0 * LANES, g.cw + c0 * LANES, g.clin + c0 * LANES,
            g.v + (nd + c0) * LANES)


cdef void _set_interval(const Job* job, Group* g, Py_ssize_t l) noexcept nogil:
    cdef Py_ssize_t c, r = g.reg[l], k = g.k[l]
    cdef const double* val = job.values + (r * job.K + k) * job.C
    for c in range(job.C):
        g.y[job.cols[c] * LANES + l] = val[c]
        g.U[job.cols[c] * LANES + l] = val[c]
        g.ynew[job.cols[c] * LANES + l] = val[c]
    g.t[l] = 0.0
    g.tries[l] = 0
    g.rejected[l] = 0
    g.first[l] = 1
    g.need0[l] = 1


cdef void _write_out(const Job* job, Group* g, Py_ssize_t l, Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t j, r = g.reg[l]
    cdef double* o = job.out + (r * (job.K + 1) + row) * job.M
    for j in range(job.M):
        o[j] = g.y[job.out_nodes[j] * LANES + l]


cdef void _load(const Job* job, Group* g, Py_ssize_t l, Py_ssize_t r) noexcept nogil:
    cdef Py_ssize_t i, q, c, e, u, N = job.N, E = job.E, nd = job.nd
    cdef Py_ssize_t p = job.param_index[r]
    cdef const uint8_t* fixed = job.fixed_mask + r * N
    cdef const double* fv = job.fixed_value + r * N
    cdef const double* y0 = job.y0 + r * N
    for i in range(N):
        g.y[i * LANES + l] = fv[i] if fixed[i] else y0[i]
        # U and ynew equal y on the nodes without a rule (the stage loops skip them)
        g.U[i * LANES + l] = g.y[i * LANES + l]
        g.ynew[i * LANES + l] = g.y[i * LANES + l]
        g.fr[i * LANES + l] = 1.0 if (job.has_rule[i] and not fixed[i]) else 0.0
        g.tau[i * LANES + l] = job.tau[p * N + i]
        g.ymax[i * LANES + l] = job.ymax[p * N + i]
        g.lam[i * LANES + l] = g.fr[i * LANES + l] / g.tau[i * LANES + l]
    for q in range(nd):
        e = job.slot_edge[q]
        g.pn[q * LANES + l] = job.n[p * E + e]
        g.pB[q * LANES + l] = job.B[p * E + e]
        g.pKn[q * LANES + l] = job.Kn[p * E + e]
        g.pw[q * LANES + l] = job.w[p * E + e]
        g.plin[q * LANES + l] = 1.0 if job.lin[p * E + e] else 0.0
    for u in range(job.npow):
        g.gn[u * LANES + l] = job.n[p * E + job.slot_edge[job.pow_rep[u]]]
    for c in range(E - nd):
        e = job.slot_edge[nd + c]
        g.cn[c * LANES + l] = job.n[p * E + e]
        g.cB[c * LANES + l] = job.B[p * E + e]
        g.cKn[c * LANES + l] = job.Kn[p * E + e]
        g.cw[c * LANES + l] = job.w[p * E + e]
        g.clin[c * LANES + l] = 1.0 if job.lin[p * E + e] else 0.0
    g.reg[l] = r
    g.k[l] = 0
    g.h[l] = job.h0
    g.hj[l] = 0.0
    g.nfj[l] = 0.0
    g.steps[l] = 0
    g.ok[l] = 1
    g.active[l] = 1
    _write_out(job, g, l, 0)
    _set_interval(job, g, l)


cdef void _finish(const Job* job, Group* g, Py_ssize_t l) noexcept nogil:
    cdef Py_ssize_t i, r = g.reg[l]
    for i in range(job.N):
        job.y_out[r * job.N + i] = g.y[i * LANES + l]
    job.ok_out[r] = g.ok[l]
    job.steps_out[r] = g.steps[l]
    g.active[l] = 0


cdef void _attempt(const Job* job, Group* g) noexcept nogil:
    """One Rosenbrock (RODAS4) step attempt in every lane (idle lanes compute on dummy values)."""
    cdef Py_ssize_t N = job.N, NL = job.N * LANES, mL = job.m * LANES, i, l, s, j
    cdef double cA[SMAX]
    cdef double en[LANES]
    cdef double tot, sc, ay, an, ev, fac, rem
    cdef int acc
    cdef double* src = g.F0
    cdef double hp
    # f(y), the op values and the exact Jacobian there; W = I/(gamma h) - J, factored
    _deriv(job, g, g.y, g.F0)
    if job.jump & 1:
        mr_fnorm(job.m, g.F0, g.y, job.atol, job.rtol, en)  # f = 0 on the other nodes
    for l in range(LANES):
        if g.active[l]:
            if (job.jump & 1) and g.tries[l] == 0:
                # the interval's first attempt: the inputs have just jumped
                g.nf[l] = sqrt(en[l] / job.norm_n)
                if g.hj[l] > 0.0 and g.nfj[l] > 0.0 and g.nf[l] > 0.0:
                    hp = g.hj[l] * pow(g.nfj[l] / g.nf[l], 1.0 / job.jq)
                    if hp < g.h[l]:
                        g.h[l] = hp
            rem = job.dt - g.t[l]
            g.hh[l] = rem if rem <= job.stretch * g.h[l] else g.h[l]
        else:
            g.hh[l] = 1.0
        g.inv_h[l] = 1.0 / g.hh[l]
        g.inv_gh[l] = 1.0 / (RGAMMA * g.hh[l])
        g.bad[l] = 0
    mr_hill_d(job.nd, job.slot_src, job.pow_id, g.y, g.pxg, g.v, g.pn, g.pB, g.pKn, g.pw, g.plin,
              g.dh)
    mr_matrix(job.m, job.perm, job.diag_pos, job.nnz, job.n_rule, job.rule_nodes, job.prog_ptr,
              job.prog_op, job.prog_slot, job.a1v, job.a2v, job.vidx, job.lit_pos, g.v, g.adj,
              g.dh,
              g.ymax, g.tau, g.fr, g.inv_gh, g.a)
    mr_lu(job.m, job.diag_pos, job.l_ptr, job.l_pos, job.upd_ptr, job.upd_dst, job.upd_l,
          job.upd_u, g.a, g.dinv, g.bad)
    for s in range(NS):
        if s == 0:
            src = g.F0
        elif RNEWF[s]:
            for j in range(s):
                cA[j] = RA[s][j]
            mr_comb(mL, NL, s, cA, g.y, g.Ks, g.U)  # U = y on the other nodes
            _deriv(job, g, g.U, g.F)
            src = g.F
        # else: the previous stage's f is reused (src unchanged)
        for j in range(s):
            cA[j] = RC[s][j]
        # K_s = W^-1 (F + sum_j (C_j / h) K_j) on the rule nodes (numbered first, in elimination
        # order); nodes without a rule keep K = 0 (the buffer starts zeroed, never written there)
        mr_stage(mL, NL, s, cA, g.inv_h, src, g.Ks, g.Ks + s * NL)
        mr_solve(job.m, job.l_ptr, job.l_pos, job.l_row, job.u_ptr, job.u_pos, job.u_col, g.a,
                 g.dinv, g.Ks + s * NL)
    # candidate and error norm (per lane)
    for j in range(NS):
        cA[j] = RM[j]
    mr_comb(mL, NL, NS, cA, g.y, g.Ks, g.ynew)  # ynew = y on the other nodes
    mr_errnorm(job.m, NL, NS, RE, g.Ks, g.y, g.ynew, job.atol, job.rtol, en)
    _decide(job, g, en, RELO)


cdef void _decide(const Job* job, Group* g, const double* en, double elo) noexcept nogil:
    """Accept or reject each active lane's attempt from its squared error sum `en`; the next
    step size (err^(-1/elo)), the state, the time (the same rules for every method)."""
    cdef Py_ssize_t N = job.N, i, l
    cdef double tot, ev, fac, hp
    cdef int acc
    for l in range(LANES):
        if not g.active[l]:
            continue
        tot = sqrt(en[l] / job.norm_n)
        if job.fixed > 0 and not g.bad[l] and tot == tot:
            acc = 1
            fac = 1.0
        elif g.bad[l] or tot != tot:
            acc = 0
            fac = FMIN if not g.bad[l] else 0.5
        else:
            acc = tot <= 1.0
            if (job.jump & 1) and g.first[l] and not acc:
                fac = FSAFE * pow(tot, -1.0 / job.jq)
            else:
                fac = FSAFE * pow(tot if tot > 1e-10 else 1e-10, -1.0 / elo)
            fac = FMIN if fac < FMIN else (FMAX if fac > FMAX else fac)
            if acc and g.rejected[l] and fac > 1.0:
                fac = 1.0
            if acc and g.first[l] and (job.jump & 1):
                hp = FSAFE * pow(tot if tot > 1e-10 else 1e-10, -1.0 / job.jq)
                hp = FMIN if hp < FMIN else (FMAX if hp > FMAX else hp)
                g.hj[l] = g.hh[l] * hp
                g.nfj[l] = g.nf[l]
        if acc:
            for i in range(N):
                ev = g.ynew[i * LANES + l]
                g.y[i * LANES + l] = 0.0 if ev < 0.0 else (1.0 if ev > 1.0 else ev)
            if g.hh[l] < g.h[l]:
                # shortened to meet the interval's end: the next step keeps its size
                if g.hh[l] * fac > g.h[l]:
                    g.h[l] = g.hh[l] * fac
            else:
                g.h[l] = g.hh[l] * fac if g.hh[l] * fac > 1e-10 else 1e-10
            g.first[l] = 0
            if job.fixed > 0:
                g.h[l] = job.dt / job.fixed
            if job.dt - (g.t[l] + g.hh[l]) <= 1e-12 * job.dt:
                g.t[l] = job.dt
            else:
                g.t[l] = g.t[l] + g.hh[l]
        else:
            g.h[l] = g.hh[l] * fac if g.hh[l] * fac > 1e-10 else 1e-10
        g.rejected[l] = not acc
        g.acc[l] = acc
        g.tries[l] += 1
        g.steps[l] += 1


cdef void _attempt_exp(const Job* job, Group* g) noexcept nogil:
    """One expdp5 step attempt in every lane (see _rosenbrock_ref: the Dormand-Prince 5(4) pair
    in Lawson form about N(y_n); explicit: six derivatives per attempt, the last one reused as
    the next step's N(y_n) unless the accepted state was clipped)."""
    cdef Py_ssize_t NL = job.N * LANES, m = job.m, mL = job.m * LANES, i, l, s, q
    cdef double en[LANES]
    cdef double one[1]
    cdef double rem, hp
    cdef int need = 0, clipped
    one[0] = 1.0
    for l in range(LANES):
        if g.active[l] and g.need0[l]:
            need = 1
    if need:
        # N(y) where the state is new (an interval's start, a clipped state); elsewhere the same
        # arithmetic on the same state as the FSAL stage gave, so no lane depends on another
        _deriv(job, g, g.y, g.F0)
        for l in range(LANES):
            if g.active[l] and g.need0[l]:
                for i in range(m):
                    q = i * LANES + l
                    g.N0[q] = g.F0[q] + g.lam[q] * g.y[q]
        if job.jump & 1:
            mr_fnorm(m, g.F0, g.y, job.atol, job.rtol, en)  # f = 0 on the other nodes
    for l in range(LANES):
        if g.active[l]:
            if (job.jump & 1) and g.tries[l] == 0:
                # the interval's first attempt (need0 was set: F0 is f at this state)
                g.nf[l] = sqrt(en[l] / job.norm_n)
                if g.hj[l] > 0.0 and g.nfj[l] > 0.0 and g.nf[l] > 0.0:
                    hp = g.hj[l] * pow(g.nfj[l] / g.nf[l], 1.0 / job.jq)
                    if hp < g.h[l]:
                        g.h[l] = hp
            g.need0[l] = 0
            rem = job.dt - g.t[l]
            g.hh[l] = rem if rem <= job.stretch * g.h[l] else g.h[l]
        else:
            g.hh[l] = 1.0
        g.bad[l] = 0
    # stage factors exp(-L c_s h), the shift g and z = y - g; R_0 = N(y_n) - N(y_n) = 0
    mx_prep(m, NL, XS, XC, g.lam, g.hh, g.N0, g.y, g.al, g.ial, g.gs, g.z)
    memset(g.Rt, 0, <size_t>(m * LANES) * sizeof(double))
    for s in range(1, XS):
        # X_s = g + exp(-L c_s h) (z + h sum_j a_sj R_j exp(L c_j h)) on the rule nodes (the
        # others keep y in U)
        mx_stage(mL, NL, s, XA[s], g.hh, g.gs, g.al + s * NL, g.z, g.Rt, g.U)
        _deriv(job, g, g.U, g.F)
        mx_rt(mL, g.F, g.lam, g.U, g.N0, g.ial + s * NL, g.Rt + s * NL,
              g.Nn if s == XS - 1 else NULL)
    # the last stage (c = 1, a = b) is the candidate; error h exp(-L h) sum_j e_j R_j exp(L c_j h)
    memcpy(g.ynew, g.U, <size_t>mL * sizeof(double))
    mx_err(mL, NL, XS, XE, g.hh, g.al + (XS - 1) * NL, g.Rt, g.er)
    mr_errnorm(m, NL, 1, one, g.er, g.y, g.ynew, job.atol, job.rtol, en)
    _decide(job, g, en, job.elo)
    for l in range(LANES):
        if g.active[l] and g.acc[l]:
            clipped = 0
            for i in range(m):
                if g.y[i * LANES + l] != g.ynew[i * LANES + l]:
                    clipped = 1
                    break
            if clipped:
                g.need0[l] = 1
            else:
                for i in range(m):
                    g.N0[i * LANES + l] = g.Nn[i * LANES + l]


cdef int _poll() noexcept with gil:
    """Ctrl-C (or any exception a signal handler raises) during a run: kept for the caller."""
    try:
        PyErr_CheckSignals()
    except BaseException as exc:
        _pending.append(exc)
        return 1
    return 0


_pending = []


cdef void _group_run(Job* job, Group* g, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Regimens lo..hi-1 (at most LANES) through all K intervals."""
    cdef Py_ssize_t l, n_active
    cdef int master = mm_thread_num() == 0
    cdef int64_t it = 0
    for l in range(LANES):
        g.active[l] = 0
    for l in range(hi - lo):
        _load(job, g, l, lo + l)
    # constant slots not read from `cols` keep their values through the run
    _const_literals(job, g, 0, job.E - job.nd)
    while True:
        n_active = 0
        for l in range(LANES):
            n_active += g.active[l]
        if n_active == 0:
            break
        it += 1
        if master and (it & 255) == 0:
            if _poll():
                mm_store_int(&job.stop, 1)
        if mm_load_int(&job.stop):
            return
        if job.method == 1:
            _attempt_exp(job, g)
        else:
            _attempt(job, g)
        n_active = 0
        for l in range(LANES):
            if not g.active[l]:
                continue
            if g.t[l] >= job.dt or g.tries[l] >= job.max_steps:
                if g.t[l] < job.dt:
                    g.ok[l] = 0
                g.k[l] += 1
                _write_out(job, g, l, g.k[l])
                if g.k[l] == job.K:
                    _finish(job, g, l)
                else:
                    _set_interval(job, g, l)
                    n_active += 1
        if n_active:
            _const_literals(job, g, 0, job.n_in)


cdef const int32_t* _ip(const int32_t[::1] a):
    return &a[0] if a.shape[0] > 0 else NULL


def _i32(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.int32).ravel())


def _split_shared_literals(prog_op, prog_arg, edge_src, w, n, ec50):
    """``(prog_arg, edge_src, w, n, ec50)`` with each literal op reading its own edge: the second
    and later readings of an edge (a rule such as ``A AND (A OR B)``) are pointed at appended
    copies of it (same source, same parameters in every set). The derivative and the Jacobian
    are unchanged: the copies' terms add into the same entry of W."""
    lit = np.nonzero(np.asarray(prog_op) == 0)[0]
    E = edge_src.shape[0]
    if lit.size == 0 or np.unique(prog_arg[lit]).size == lit.size:
        return prog_arg, edge_src, w, n, ec50
    prog_arg = prog_arg.copy()
    seen = set()
    extra = []
    for a in lit.tolist():
        e = int(prog_arg[a])
        if e in seen:
            prog_arg[a] = E + len(extra)
            extra.append(e)
        else:
            seen.add(e)
    ex = np.asarray(extra, dtype=np.int64)
    return (prog_arg, _i32(np.concatenate([edge_src, edge_src[ex]])),
            np.concatenate([w, w[:, ex]], axis=1), np.concatenate([n, n[:, ex]], axis=1),
            np.concatenate([ec50, ec50[:, ex]], axis=1))


def course(cm, reg, cols, values, double dt, out_nodes, double rtol, double atol,
           Py_ssize_t max_steps, int num_threads=0, double h0=0.05, Py_ssize_t fixed_steps=0,
           double stretch=1.0, bint jump_step=False, Py_ssize_t norm_n=0, method="rodas4"):
    """See ``_rosenbrock_ref.course_arrays`` (`fixed_steps` > 0: that many steps of
    ``dt / fixed_steps`` per interval without error control; `jump_step`: each interval's first
    step predicted from the previous interval's; `norm_n`: the error norm's mean runs over
    max(norm_n, N) nodes); returns ``out (R, K+1, M), y (R, N), ok (R,),
    steps (R,)``."""
    cdef Job job
    cdef Py_ssize_t G, gi, lo, hi, Rc
    cdef Group* g
    cdef int nt
    N = len(cm.nodes)
    prog_ptr = np.ascontiguousarray(np.asarray(cm.prog_ptr, dtype=np.int64))
    prog_op = _i32(cm.prog_op)
    p = reg.params
    # every edge the literal of one op at most (the value array and the reverse pass below rely
    # on it): a rule reading the same edge twice gets a copy of the edge per extra reading
    prog_arg, edge_src, w, n, ec50 = _split_shared_literals(
        prog_op, _i32(cm.prog_arg), _i32(cm.edge_src), np.asarray(p.w, dtype=np.float64),
        np.asarray(p.n, dtype=np.float64), np.asarray(p.ec50, dtype=np.float64))
    st = _ref.structure(SimpleNamespace(prog_ptr=prog_ptr, prog_op=prog_op, prog_arg=prog_arg,
                                        edge_src=edge_src))
    E = edge_src.shape[0]
    w = np.ascontiguousarray(w, dtype=np.float64)
    n = np.ascontiguousarray(n, dtype=np.float64)
    tau = np.ascontiguousarray(p.tau, dtype=np.float64)
    ymax = np.ascontiguousarray(p.ymax, dtype=np.float64)
    B, Kn, lin = _hill_coefficients(n, ec50)
    B = np.ascontiguousarray(B, dtype=np.float64)
    Kn = np.ascontiguousarray(Kn, dtype=np.float64)
    lin = np.ascontiguousarray(lin, dtype=np.uint8)
    P = w.shape[0]
    fixed_mask = np.ascontiguousarray(reg.fixed_mask, dtype=np.uint8)
    fixed_value = np.ascontiguousarray(reg.fixed_value, dtype=np.float64)
    y0 = np.ascontiguousarray(reg.y0, dtype=np.float64)
    pidx = np.ascontiguousarray(reg.param_index, dtype=np.int64)
    R = pidx.shape[0]
    cols_a = _i32(cols)
    vals = np.ascontiguousarray(values, dtype=np.float64)
    outn = _i32(out_nodes)
    if vals.ndim != 3 or vals.shape[0] != R or vals.shape[2] != cols_a.shape[0]:
        raise ValueError(f"_rosenbrock kernel: values has shape {vals.shape}, expected "
                         f"({R}, K, {cols_a.shape[0]})")
    K = vals.shape[1]
    expect = {"w": (w, (P, E)), "n": (n, (P, E)), "tau": (tau, (P, N)), "ymax": (ymax, (P, N)),
              "fixed_mask": (fixed_mask, (R, N)), "fixed_value": (fixed_value, (R, N)),
              "y0": (y0, (R, N)), "prog_ptr": (prog_ptr, (N + 1,))}
    for name, (arr, shape) in expect.items():
        if arr.shape != shape:
            raise ValueError(f"_rosenbrock kernel: {name} has shape {arr.shape}, expected {shape}")
    if N < 1 or R < 1 or K < 1 or P < 1:
        raise ValueError(f"_rosenbrock kernel: need N, R, K, P >= 1, got {N}, {R}, {K}, {P}")
    if max_steps < 1 or not dt > 0:
        raise ValueError("_rosenbrock kernel: max_steps must be >= 1 and dt > 0")
    for arr, bound in ((cols_a, N), (outn, N), (pidx, P)):
        if arr.shape[0] and (arr.min() < 0 or arr.max() >= bound):
            raise ValueError("_rosenbrock kernel: an index is out of range")
    # nodes renumbered inside the kernel: the rule nodes first, in the elimination order of
    # `structure`, then the others; the solves need no gather and the stage loops and the error
    # norm run over the m rule nodes only (K = 0 elsewhere)
    perm0 = np.asarray(st["perm"], dtype=np.int64)
    order = np.concatenate([perm0, np.nonzero(np.diff(prog_ptr) == 0)[0]]).astype(np.int64)
    pos = np.empty(N, dtype=np.int64)
    pos[order] = np.arange(N)
    lens = np.diff(prog_ptr)[order]
    n_ops0 = prog_op.shape[0]
    op_old = (np.concatenate([np.arange(prog_ptr[i], prog_ptr[i + 1]) for i in order])
              .astype(np.int64) if n_ops0 else np.zeros(0, dtype=np.int64))
    op_new = np.empty(n_ops0, dtype=np.int64)
    op_new[op_old] = np.arange(n_ops0)
    prog_ptr = np.ascontiguousarray(np.concatenate([[0], np.cumsum(lens)]), dtype=np.int64)
    prog_op = _i32(np.asarray(prog_op)[op_old])
    prog_arg = _i32(np.asarray(prog_arg)[op_old])
    edge_src = _i32(pos[edge_src])

    def _ops(a):
        a = np.asarray(a, dtype=np.int64)[op_old]
        return np.where(a >= 0, op_new[np.maximum(a, 0)], -1)

    st = dict(st, arg1=_ops(st["arg1"]), arg2=_ops(st["arg2"]),
              lit_pos=np.asarray(st["lit_pos"], dtype=np.int64)[op_old],
              perm=np.arange(perm0.size, dtype=np.int64))
    tau = np.ascontiguousarray(tau[:, order])
    ymax = np.ascontiguousarray(ymax[:, order])
    fixed_mask = np.ascontiguousarray(fixed_mask[:, order])
    fixed_value = np.ascontiguousarray(fixed_value[:, order])
    y0 = np.ascontiguousarray(y0[:, order])
    cols_a = _i32(pos[cols_a])
    outn = _i32(pos[outn])
    has_rule = np.ascontiguousarray(np.diff(prog_ptr) > 0, dtype=np.uint8)
    moving = has_rule[edge_src].astype(bool) if E else np.zeros(0, dtype=bool)
    # slots: the moving edges, then the constant ones read from `cols` (recomputed at each
    # interval), then the other constant ones (computed once)
    from_cols = np.isin(edge_src, cols_a) if E else np.zeros(0, dtype=bool)
    slot_edge = np.concatenate([np.nonzero(moving)[0], np.nonzero(~moving & from_cols)[0],
                                np.nonzero(~moving & ~from_cols)[0]]).astype(np.int32)
    n_in = int((~moving & from_cols).sum())
    slot_of = np.empty(E, dtype=np.int64)
    slot_of[slot_edge] = np.arange(E)
    # moving slots that share their source and their Hill exponent in every parameter set share
    # one x^n (mr_pow)
    nd_ = int(moving.sum())
    groups = {}
    pow_id = np.empty(nd_, dtype=np.int32)
    pow_rep = []
    for q in range(nd_):
        e = int(slot_edge[q])
        key = (int(edge_src[e]), n[:, e].tobytes())
        if key not in groups:
            groups[key] = len(pow_rep)
            pow_rep.append(q)
        pow_id[q] = groups[key]
    # groups whose every slot is the identity (lin) in every parameter set never read their x^n
    # (mr_hill_pow selects x; mr_hill_d reads the values): numbered last, no power computed
    ident = np.ones(len(pow_rep), dtype=bool)
    for q in range(nd_):
        ident[pow_id[q]] &= bool(np.all(lin[:, int(slot_edge[q])]))
    order = np.argsort(ident, kind="stable")  # groups needing x^n first, each side in order
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    pow_id = rank[pow_id].astype(np.int32) if nd_ else pow_id
    pow_rep = [pow_rep[u] for u in order.tolist()]
    npow_xn = int((~ident).sum())
    pow_rep_a = np.asarray(pow_rep, dtype=np.int32)
    is_lit = np.asarray(prog_op) == 0
    prog_slot = np.where(is_lit, slot_of[np.where(is_lit, prog_arg, 0)] if E else 0, prog_arg)
    # one value per literal slot (each edge is the literal of one rule at most: the reverse pass
    # of mr_matrix reads each op's adjoint once) and per other op
    n_ops_ = prog_op.shape[0]
    if np.unique(prog_slot[is_lit]).size != int(is_lit.sum()):
        raise ValueError("_rosenbrock kernel: an edge is the literal of more than one rule op")
    vidx = np.empty(n_ops_, dtype=np.int64)
    vidx[is_lit] = prog_slot[is_lit]
    vidx[~is_lit] = E + np.arange(int((~is_lit).sum()))
    n_val = E + int((~is_lit).sum())
    a1 = np.asarray(st["arg1"], dtype=np.int64)
    a2 = np.asarray(st["arg2"], dtype=np.int64)
    a1v = np.where(a1 >= 0, vidx[np.maximum(a1, 0)], -1)
    a2v = np.where(a2 >= 0, vidx[np.maximum(a2, 0)], -1)
    rule_nodes = np.nonzero(has_rule)[0]
    nl_of = np.repeat(np.arange(N), np.diff(prog_ptr))[~is_lit]  # owner node of each
    nl_ptr = np.searchsorted(nl_of, rule_nodes, side="left")
    nl_ptr = np.concatenate([nl_ptr, [nl_of.size]]) if rule_nodes.size else np.zeros(1)
    op_nl = np.asarray(prog_op)[~is_lit]
    nl_a2 = np.where(op_nl == 4, prog_slot[~is_lit], a2v[~is_lit])
    fval = vidx[prog_ptr[rule_nodes + 1] - 1] if rule_nodes.size else np.zeros(0)
    arrays = dict(
        prog_slot=_i32(prog_slot), arg1=_i32(st["arg1"]), arg2=_i32(st["arg2"]),
        rule_nodes=_i32(np.nonzero(has_rule)[0]), slot_edge=_i32(slot_edge),
        slot_src=_i32(edge_src[slot_edge]), lit_pos=_i32(st["lit_pos"]), perm=_i32(st["perm"]),
        diag_pos=_i32(st["diag_pos"]), l_ptr=_i32(st["l_ptr"]), l_pos=_i32(st["l_pos"]),
        l_row=_i32(st["l_row"]), u_ptr=_i32(st["u_ptr"]), u_pos=_i32(st["u_pos"]),
        u_col=_i32(st["u_col"]), upd_ptr=_i32(st["upd_ptr"]), upd_dst=_i32(st["upd_dst"]),
        upd_l=_i32(st["upd_l"]), upd_u=_i32(st["upd_u"]),
        pow_src=_i32(edge_src[slot_edge[pow_rep_a]] if pow_rep_a.size else []),
        nl_ptr=_i32(nl_ptr), nl_op=_i32(op_nl), nl_out=_i32(vidx[~is_lit]),
        nl_a1=_i32(a1v[~is_lit]), nl_a2=_i32(nl_a2), fval=_i32(fval), vidx=_i32(vidx),
        a1v=_i32(a1v), a2v=_i32(a2v))
    out = np.empty((R, K + 1, outn.shape[0]), dtype=np.float64)
    y_out = np.empty((R, N), dtype=np.float64)
    ok = np.zeros(R, dtype=np.uint8)
    steps = np.zeros(R, dtype=np.int64)
    cdef const int64_t[::1] v_ptr = prog_ptr
    cdef const int32_t[::1] v_op = prog_op
    cdef const int32_t[::1] v_slot = arrays["prog_slot"]
    cdef const int32_t[::1] v_a1 = arrays["arg1"]
    cdef const int32_t[::1] v_a2 = arrays["arg2"]
    cdef const int32_t[::1] v_rn = arrays["rule_nodes"]
    cdef const uint8_t[::1] v_hr = has_rule
    cdef const int32_t[::1] v_se = arrays["slot_edge"]
    cdef const int32_t[::1] v_ss = arrays["slot_src"]
    cdef const int32_t[::1] v_lp = arrays["lit_pos"]
    cdef const int32_t[::1] v_perm = arrays["perm"]
    cdef const int32_t[::1] v_dp = arrays["diag_pos"]
    cdef const int32_t[::1] v_lptr = arrays["l_ptr"]
    cdef const int32_t[::1] v_lpos = arrays["l_pos"]
    cdef const int32_t[::1] v_lrow = arrays["l_row"]
    cdef const int32_t[::1] v_uptr = arrays["u_ptr"]
    cdef const int32_t[::1] v_upos = arrays["u_pos"]
    cdef const int32_t[::1] v_ucol = arrays["u_col"]
    cdef const int32_t[::1] v_updp = arrays["upd_ptr"]
    cdef const int32_t[::1] v_updd = arrays["upd_dst"]
    cdef const int32_t[::1] v_updl = arrays["upd_l"]
    cdef const int32_t[::1] v_updu = arrays["upd_u"]
    cdef const int32_t[::1] v_prep = pow_rep_a
    cdef const int32_t[::1] v_psrc = arrays["pow_src"]
    cdef const int32_t[::1] v_nlptr = arrays["nl_ptr"]
    cdef const int32_t[::1] v_nlop = arrays["nl_op"]
    cdef const int32_t[::1] v_nlout = arrays["nl_out"]
    cdef const int32_t[::1] v_nla1 = arrays["nl_a1"]
    cdef const int32_t[::1] v_nla2 = arrays["nl_a2"]
    cdef const int32_t[::1] v_fval = arrays["fval"]
    cdef const int32_t[::1] v_vidx = arrays["vidx"]
    cdef const int32_t[::1] v_a1v = arrays["a1v"]
    cdef const int32_t[::1] v_a2v = arrays["a2v"]
    cdef const int32_t[::1] v_pid = pow_id
    cdef const float64_t[::1] v_w = w.ravel()
    cdef const float64_t[::1] v_n = n.ravel()
    cdef const float64_t[::1] v_B = B.ravel()
    cdef const float64_t[::1] v_Kn = Kn.ravel()
    cdef const uint8_t[::1] v_lin = lin.ravel()
    cdef const float64_t[::1] v_tau = tau.ravel()
    cdef const float64_t[::1] v_ymax = ymax.ravel()
    cdef const uint8_t[::1] v_fm = fixed_mask.ravel()
    cdef const float64_t[::1] v_fv = fixed_value.ravel()
    cdef const float64_t[::1] v_y0 = y0.ravel()
    cdef const int64_t[::1] v_pidx = pidx
    cdef const int32_t[::1] v_cols = cols_a
    cdef const float64_t[::1] v_vals = vals.ravel()
    cdef const int32_t[::1] v_outn = outn
    cdef float64_t[::1] v_out = out.ravel()
    cdef float64_t[::1] v_yout = y_out.ravel()
    cdef uint8_t[::1] v_ok = ok
    cdef int64_t[::1] v_steps = steps
    memset(&job, 0, sizeof(Job))
    job.N, job.E, job.R, job.K = N, E, R, K
    job.C, job.M = cols_a.shape[0], outn.shape[0]
    job.nd = int(moving.sum())
    job.npow = v_prep.shape[0]
    job.npow_xn = npow_xn
    job.pow_rep = _ip(v_prep)
    job.pow_src = _ip(v_psrc)
    job.n_val = n_val
    job.n_in = n_in
    job.nl_ptr = &v_nlptr[0]
    job.nl_op = _ip(v_nlop)
    job.nl_out = _ip(v_nlout)
    job.nl_a1 = _ip(v_nla1)
    job.nl_a2 = _ip(v_nla2)
    job.fval = _ip(v_fval)
    job.vidx = _ip(v_vidx)
    job.a1v = _ip(v_a1v)
    job.a2v = _ip(v_a2v)
    job.pow_id = _ip(v_pid)
    job.n_ops = prog_op.shape[0]
    job.n_rule = v_rn.shape[0]
    job.m = v_perm.shape[0]
    job.nnz = int(st["nnz"])
    job.prog_ptr = &v_ptr[0]
    job.prog_op = _ip(v_op)
    job.prog_slot = _ip(v_slot)
    job.arg1 = _ip(v_a1)
    job.arg2 = _ip(v_a2)
    job.rule_nodes = _ip(v_rn)
    job.has_rule = &v_hr[0]
    job.slot_edge = _ip(v_se)
    job.slot_src = _ip(v_ss)
    job.lit_pos = _ip(v_lp)
    job.perm = _ip(v_perm)
    job.diag_pos = _ip(v_dp)
    job.l_ptr = &v_lptr[0]
    job.l_pos = _ip(v_lpos)
    job.l_row = _ip(v_lrow)
    job.u_ptr = &v_uptr[0]
    job.u_pos = _ip(v_upos)
    job.u_col = _ip(v_ucol)
    job.upd_ptr = &v_updp[0]
    job.upd_dst = _ip(v_updd)
    job.upd_l = _ip(v_updl)
    job.upd_u = _ip(v_updu)
    job.w = &v_w[0] if E else NULL
    job.n = &v_n[0] if E else NULL
    job.B = &v_B[0] if E else NULL
    job.Kn = &v_Kn[0] if E else NULL
    job.lin = &v_lin[0] if E else NULL
    job.tau = &v_tau[0]
    job.ymax = &v_ymax[0]
    job.fixed_mask = &v_fm[0]
    job.fixed_value = &v_fv[0]
    job.y0 = &v_y0[0]
    job.param_index = &v_pidx[0]
    job.cols = _ip(v_cols)
    job.values = &v_vals[0] if v_vals.shape[0] else NULL
    job.out_nodes = _ip(v_outn)
    job.dt, job.rtol, job.atol, job.h0 = dt, rtol, atol, h0
    job.max_steps = max_steps
    # after a rejection the step shrinks to at most FAC_SAFE (0.9) of the tried one, so a stretch
    # above 1 / 0.9 could retry the same stretched step until max_steps
    if not 1.0 <= stretch <= 1.1:
        raise ValueError(f"_rosenbrock kernel: stretch must be in [1, 1.1], got {stretch!r}")
    job.stretch = stretch
    job.jump = 1 if (jump_step and fixed_steps <= 0) else 0
    if method not in _ref.METHODS:
        raise ValueError(f"_rosenbrock kernel: method must be one of {_ref.METHODS}, got {method!r}")
    job.method = _ref.METHODS.index(method)
    job.jq = float(_ref.JUMP_Q if job.method == 0 else _ref.EXP_JUMP_Q)
    job.elo = float(_ref.ROS_ELO if job.method == 0 else _ref.EXP_ELO)
    job.norm_n = <double>(norm_n if norm_n > N else N)
    job.fixed = fixed_steps if fixed_steps > 0 else 0
    if job.fixed > 0:
        job.h0 = dt / job.fixed
    job.out = &v_out[0] if v_out.shape[0] else NULL
    job.y_out = &v_yout[0]
    job.ok_out = &v_ok[0]
    job.steps_out = &v_steps[0]
    Rc = R
    G = (Rc + LANES - 1) // LANES
    nt = num_threads if num_threads > 0 else 0
    failed = np.zeros(1, dtype=np.uint8)
    cdef uint8_t[::1] v_failed = failed
    del _pending[:]
    if nt == 0:
        from ._logic import default_threads  # deferred: only to read OpenMP's default
        nt = default_threads()
    if nt > G:
        nt = <int>G
    if nt < 1:
        nt = 1
    with nogil, parallel(num_threads=nt):
        g = _group_new(&job)
        if g == NULL:
            v_failed[0] = 1
        for gi in prange(G, schedule="dynamic"):
            if g != NULL and mm_load_int(&job.stop) == 0:
                lo = gi * LANES
                hi = lo + LANES if lo + LANES < Rc else Rc
                _group_run(&job, g, lo, hi)
        _group_free(g)
    if _pending:
        exc = _pending[0]
        del _pending[:]
        raise exc
    if failed[0]:
        raise MemoryError("_rosenbrock kernel: could not allocate the per-thread buffers")
    return out, np.ascontiguousarray(y_out[:, pos]), ok.astype(bool), steps


def relax_course(eq, decay, mean_w, theta0, int num_threads=0):
    """See ``_rosenbrock_ref.relax_course`` (same arithmetic, rows in parallel)."""
    cdef const float64_t[:, ::1] E = np.ascontiguousarray(eq, dtype=np.float64)
    cdef const float64_t[:, ::1] Dc = np.ascontiguousarray(decay, dtype=np.float64)
    cdef const float64_t[:, ::1] W = np.ascontiguousarray(mean_w, dtype=np.float64)
    cdef const float64_t[::1] th0 = np.ascontiguousarray(theta0, dtype=np.float64)
    cdef Py_ssize_t R = E.shape[0], T = E.shape[1], r, i
    if Dc.shape[0] != R or Dc.shape[1] != T or W.shape[0] != R or W.shape[1] != T \
            or th0.shape[0] != R:
        raise ValueError("_rosenbrock.relax_course: shapes disagree")
    end = np.empty((R, T), dtype=np.float64)
    mean = np.empty((R, T), dtype=np.float64)
    cdef float64_t[:, ::1] Ev = end
    cdef float64_t[:, ::1] Mv = mean
    cdef double th, e, d
    cdef int nt = num_threads if num_threads > 0 else 1
    if R == 0 or T == 0:
        return end, mean
    for r in prange(R, nogil=True, num_threads=nt, schedule="static"):
        th = th0[r]
        for i in range(T):
            e = E[r, i]
            d = th - e
            Mv[r, i] = e + d * W[r, i]
            th = e + d * Dc[r, i]
            Ev[r, i] = th
    return end, mean
