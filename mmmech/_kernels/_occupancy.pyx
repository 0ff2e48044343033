# Target occupancy from concentration: theta = c^h / (c^h + K^h), batched over regimens.
# Computed without overflow (the logistic of z = h log(c / K) where (c / K)^h would overflow
# or lose precision), exactly as the NumPy reference _occupancy_ref.py (read it first). Directives are set once in setup.py.
from cython.parallel cimport prange
from libc.math cimport exp, expm1, log, fabs, pow
from libc.stdlib cimport malloc, free
from libc.float cimport DBL_MIN, DBL_MAX

from ._typedefs cimport float64_t

from libc.stdint cimport int64_t


cdef extern from *:
    """
    #ifndef MMMECH_HAVE_OPENMP
    #define MMMECH_HAVE_OPENMP 0
    #endif
    """
    int MMMECH_HAVE_OPENMP


def openmp_enabled():
    """True when this module was compiled with OpenMP."""
    return MMMECH_HAVE_OPENMP != 0


cdef inline double _occ(double c, double k, double h) noexcept nogil:
    # reference: ch / (1 + ch) with ch = (c / K)^h while c / K is a normal double and ch is
    # finite (the textbook formula, same bits as before); otherwise the logistic of
    # z = h * log(c / K) (log c - log K where c / K is not normal): 1 / (1 + e^-z) for z >= 0,
    # e^z / (1 + e^z) below. No overflow, never NaN.
    cdef double r, lr, z, ez, ch
    if c <= 0.0:
        return 0.0
    r = c / k
    if r >= DBL_MIN and r <= DBL_MAX:
        # h = 1 (every bundled column today): pow(r, 1) is r exactly (glibc's pow is within
        # 0.52 ulp, and r is representable), so the same bits without the pow call, which
        # was most of the occupancy stage's CPU
        ch = r if h == 1.0 else pow(r, h)
        if ch <= DBL_MAX:
            return ch / (1.0 + ch)
        lr = log(r)
    else:
        lr = log(c) - log(k)
    z = h * lr
    ez = exp(-fabs(z))
    if z >= 0.0:
        return 1.0 / (1.0 + ez)
    return ez / (1.0 + ez)


def occupancy(const float64_t[:, ::1] conc, const float64_t[::1] k,
              const float64_t[::1] h, float64_t[:, ::1] out, int num_threads=0):
    """Fill out[r, d] = occupancy of drug d in regimen r (inputs checked by the caller)."""
    cdef Py_ssize_t R = conc.shape[0], D = conc.shape[1], r, d
    if num_threads <= 0:
        for r in prange(R, nogil=True, schedule="static"):
            for d in range(D):
                out[r, d] = _occ(conc[r, d], k[d], h[d])
    else:
        for r in prange(R, nogil=True, schedule="static", num_threads=num_threads):
            for d in range(D):
                out[r, d] = _occ(conc[r, d], k[d], h[d])


def occupancy_step_mean(const float64_t[:, :, ::1] conc, const int64_t[::1] sel,
                        const int64_t[::1] cdrug, const float64_t[::1] k,
                        const float64_t[::1] h, float64_t[:, :, ::1] out,
                        const int64_t[::1] dest, const int64_t[::1] ocol,
                        Py_ssize_t substeps, int num_threads=1):
    """out[dest[i], s, ocol[j]] = the mean over the `substeps` substeps u of step s of the
    occupancy of column j at conc[sel[i], s * substeps + u, cdrug[j]] (potency k[j], Hill h[j]),
    for every row i in parallel: the occupancy kernel, then ``.mean(axis=substeps)`` (summed in
    substep order, then divided), in one pass without the gathered copy. Returns the number of
    rows with a concentration that is not finite or < 0 (their output is not to be used; the
    caller checks first, as :func:`mmmech.simulation.occupancy.occupancy` does)."""
    cdef Py_ssize_t n = sel.shape[0], J = cdrug.shape[0], D = conc.shape[2]
    cdef Py_ssize_t S = substeps, i, s, u, j, p, q, K
    cdef double acc, c
    cdef int bad = 0
    if S <= 0 or conc.shape[1] % S != 0:
        raise ValueError("occupancy_step_mean(): conc's time axis is not steps x substeps")
    K = conc.shape[1] // S
    if dest.shape[0] != n or ocol.shape[0] != J or k.shape[0] != J or h.shape[0] != J:
        raise ValueError("occupancy_step_mean(): shapes disagree")
    if out.shape[1] != K:
        raise ValueError("occupancy_step_mean(): out must have one column per step")
    for i in range(n):
        if sel[i] < 0 or sel[i] >= conc.shape[0] or dest[i] < 0 or dest[i] >= out.shape[0]:
            raise ValueError("occupancy_step_mean(): row index out of range")
    for j in range(J):
        if cdrug[j] < 0 or cdrug[j] >= D or ocol[j] < 0 or ocol[j] >= out.shape[2]:
            raise ValueError("occupancy_step_mean(): column index out of range")
    if num_threads <= 0:
        num_threads = 1
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        p = sel[i]
        q = dest[i]
        for s in range(K):
            for j in range(J):
                acc = 0.0
                for u in range(S):
                    c = conc[p, s * S + u, cdrug[j]]
                    if not (c >= 0.0 and c <= DBL_MAX):
                        bad += 1
                    acc = acc + _occ(c, k[j], h[j])
                out[q, s, ocol[j]] = acc / S
    return bad


cdef double _pairwise_sum(const double* a, Py_ssize_t n) noexcept nogil:
    # NumPy's pairwise summation of a contiguous float64 run (numpy/_core/src/umath/
    # loops_utils.h.src, DOUBLE_pairwise_sum), operation for operation, so a sum over a
    # contiguous last axis (``x.reshape(..., n).sum(axis=-1)``, which NumPy's reduce starts
    # from its identity 0 and then adds this) gets the same bits
    cdef double r0, r1, r2, r3, r4, r5, r6, r7, res
    cdef Py_ssize_t i, n2
    if n < 8:
        res = -0.0
        for i in range(n):
            res = res + a[i]
        return res
    if n <= 128:
        r0 = a[0]
        r1 = a[1]
        r2 = a[2]
        r3 = a[3]
        r4 = a[4]
        r5 = a[5]
        r6 = a[6]
        r7 = a[7]
        i = 8
        while i < n - (n % 8):
            r0 = r0 + a[i]
            r1 = r1 + a[i + 1]
            r2 = r2 + a[i + 2]
            r3 = r3 + a[i + 3]
            r4 = r4 + a[i + 4]
            r5 = r5 + a[i + 5]
            r6 = r6 + a[i + 6]
            r7 = r7 + a[i + 7]
            i = i + 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res = res + a[i]
            i = i + 1
        return res
    n2 = n // 2
    n2 = n2 - n2 % 8
    return _pairwise_sum(a, n2) + _pairwise_sum(a + n2, n - n2)


cdef extern from "_binding_helpers.h":
    Py_ssize_t mb_ratio(Py_ssize_t n, const double* c, double scale, double K,
                        double* u) noexcept nogil
    void mb_binding_terms(Py_ssize_t n, const double* u, double k_off, double dt, double* eq,
                          double* dec, double* w) noexcept nogil
    Py_ssize_t mb_occ_h1(Py_ssize_t n, const double* c, double K, double* o) noexcept nogil


def occupancy_step_mean_dt(const float64_t[:, :, ::1] conc, const int64_t[::1] sel,
                           const int64_t[::1] cdrug, const float64_t[::1] k,
                           const float64_t[::1] h, float64_t[:, :, ::1] out,
                           const int64_t[::1] dest, const int64_t[::1] ocol,
                           Py_ssize_t substeps, int num_threads=1):
    """:func:`occupancy_step_mean` for concentrations laid out drug by drug, ``conc[p, d, t]``
    (each drug's course of a row contiguous, as the cohort fills it), the same bits:
    out[dest[i], s, ocol[j]] = the mean over the `substeps` substeps u of step s of the
    occupancy of column j at conc[sel[i], cdrug[j], s * substeps + u]. A column of Hill slope
    1 is computed in a SIMD loop (``_binding_helpers.h``, the occupancy's plain branch) unless
    one of its concentrations needs another branch; then, and for other slopes, as
    :func:`occupancy_step_mean`. Returns the number of concentrations that are not finite or
    < 0 (their output is not to be used)."""
    cdef Py_ssize_t n = sel.shape[0], J = cdrug.shape[0], D = conc.shape[1]
    cdef Py_ssize_t S = substeps, i, s, u, j, p, q, K, T = conc.shape[2], oc
    cdef double acc, c
    cdef double* o
    cdef const double* src
    cdef Py_ssize_t bad = 0
    if S <= 0 or T % S != 0:
        raise ValueError("occupancy_step_mean_dt(): conc's time axis is not steps x substeps")
    K = T // S
    if dest.shape[0] != n or ocol.shape[0] != J or k.shape[0] != J or h.shape[0] != J:
        raise ValueError("occupancy_step_mean_dt(): shapes disagree")
    if out.shape[1] != K:
        raise ValueError("occupancy_step_mean_dt(): out must have one column per step")
    for i in range(n):
        if sel[i] < 0 or sel[i] >= conc.shape[0] or dest[i] < 0 or dest[i] >= out.shape[0]:
            raise ValueError("occupancy_step_mean_dt(): row index out of range")
    for j in range(J):
        if cdrug[j] < 0 or cdrug[j] >= D or ocol[j] < 0 or ocol[j] >= out.shape[2]:
            raise ValueError("occupancy_step_mean_dt(): column index out of range")
    if n == 0 or J == 0 or T == 0:
        return 0
    if num_threads <= 0:
        num_threads = 1
    for i in prange(n, nogil=True, schedule="static", num_threads=num_threads):
        o = <double*> malloc(T * sizeof(double))
        p = sel[i]
        q = dest[i]
        for j in range(J):
            src = &conc[p, cdrug[j], 0]
            oc = ocol[j]
            if o != NULL and h[j] == 1.0 and mb_occ_h1(T, src, k[j], o) == 0:
                for s in range(K):
                    acc = 0.0
                    for u in range(S):
                        acc = acc + o[s * S + u]
                    out[q, s, oc] = acc / S
                continue
            for s in range(K):
                acc = 0.0
                for u in range(S):
                    c = src[s * S + u]
                    if not (c >= 0.0 and c <= DBL_MAX):
                        bad += 1
                    acc = acc + _occ(c, k[j], h[j])
                out[q, s, oc] = acc / S
        free(o)
    return bad



def binding_step_mean(const float64_t[:, ::1] fine, double scale, const float64_t[::1] k,
                      const float64_t[::1] h, const float64_t[::1] k_off, double dt,
                      float64_t[:, :, ::1] out, const int64_t[::1] dest,
                      const int64_t[::1] ocol, Py_ssize_t nf, int num_threads=1):
    """Binding kinetics from occupancy 0 on the fine grid, averaged over each step, fused.

    For row i, column j and fine interval t (concentration ``c = fine[i, t] * scale`` nM,
    held over `dt` hours), as :func:`mmmech.dynamics.kinetics.occupancy_course`:
    ``u = (max(c, 0) / k[j])**h[j]``, ``eq = u / (1 + u)``, ``x = k_off[j] (1 + u) dt``,
    ``mean_t = eq + (theta - eq) (1 - exp(-x)) / x``, ``theta <- eq + (theta - eq) exp(-x)``
    (the terms in SIMD loops, ``_binding_helpers.h``); then ``out[dest[i], s, ocol[j]]`` =
    the mean of ``mean_t`` over the `nf` intervals of step s (NumPy's pairwise sum over them,
    divided by `nf`), without the fine-grid array. Groups of rows run in parallel
    (`num_threads`), the (row, column) courses of a group side by side in chunks of steps;
    each course's arithmetic is its own, so the bits do not depend on the grouping.
    Returns the number of concentrations that are NaN or +inf (their rows' output is not to
    be used; the caller takes the reference path)."""
    cdef Py_ssize_t n = fine.shape[0], T = fine.shape[1], J = k.shape[0]
    cdef Py_ssize_t i, j, s, f, t, Ks, s0, ns, CH, CN, m, b, g, G, GR, L, l, r0
    cdef double e, d
    cdef double* buf
    cdef double* th
    cdef double* mb
    cdef double* u
    cdef Py_ssize_t bad = 0
    if nf <= 0 or T % nf != 0:
        raise ValueError("binding_step_mean(): the fine axis is not steps x nf")
    Ks = T // nf
    if h.shape[0] != J or k_off.shape[0] != J or ocol.shape[0] != J or dest.shape[0] != n:
        raise ValueError("binding_step_mean(): shapes disagree")
    if out.shape[1] != Ks:
        raise ValueError("binding_step_mean(): out must have one column per step")
    if not (dt > 0.0 and dt <= DBL_MAX):
        raise ValueError("binding_step_mean(): dt must be > 0 and finite")
    for i in range(n):
        if dest[i] < 0 or dest[i] >= out.shape[0]:
            raise ValueError("binding_step_mean(): row index out of range")
    for j in range(J):
        if ocol[j] < 0 or ocol[j] >= out.shape[2]:
            raise ValueError("binding_step_mean(): column index out of range")
        if not (k[j] > 0.0 and k[j] <= DBL_MAX and h[j] > 0.0 and h[j] <= DBL_MAX
                and k_off[j] > 0.0 and k_off[j] <= DBL_MAX):
            raise ValueError("binding_step_mean(): k, h and k_off must be > 0 and finite")
    if n == 0 or J == 0 or Ks == 0:
        return 0
    if num_threads <= 0:
        num_threads = 1
    # rows per group: GR * J (about 8) courses side by side in one thread; the interval
    # recursion is a chain of dependent operations, so several independent chains keep the
    # core busy
    GR = max(1, 8 // J)
    G = (n + GR - 1) // GR
    CH = max(1, 512 // nf)  # steps per chunk: the chunk's terms stay in the L2 cache
    # each term array's stride: the chunk plus 9 cache lines, so the arrays of the courses
    # read side by side do not all fall in one set of the L1 cache (4 kB apart)
    CN = CH * nf + 72
    for g in prange(G, nogil=True, schedule="dynamic", num_threads=num_threads):
        r0 = g * GR
        L = min(GR, n - r0) * J  # course l: row r0 + l // J, column l % J
        # per course: eq, dec, w of the chunk; then u (scratch), the step's means, theta
        buf = <double*> malloc((3 * L * CN + CN + L * nf + L) * sizeof(double))
        if buf == NULL:
            bad += 1
            continue
        u = buf + 3 * L * CN
        mb = u + CN
        th = mb + L * nf
        for l in range(L):
            th[l] = 0.0
        for b in range((Ks + CH - 1) // CH):
            s0 = b * CH
            ns = min(CH, Ks - s0)
            m = ns * nf
            for l in range(L):
                i = r0 + l // J
                j = l % J
                bad += mb_ratio(m, &fine[i, s0 * nf], scale, k[j], u)
                if h[j] != 1.0:
                    for t in range(m):
                        u[t] = pow(u[t], h[j])
                mb_binding_terms(m, u, k_off[j], dt, buf + 3 * l * CN, buf + (3 * l + 1) * CN,
                                 buf + (3 * l + 2) * CN)
            for s in range(ns):
                for f in range(nf):
                    t = s * nf + f
                    for l in range(L):
                        e = buf[3 * l * CN + t]
                        d = th[l] - e
                        mb[l * nf + f] = e + d * buf[(3 * l + 2) * CN + t]
                        th[l] = e + d * buf[(3 * l + 1) * CN + t]
                for l in range(L):
                    out[dest[r0 + l // J], s0 + s, ocol[l % J]] = (
                        0.0 + _pairwise_sum(mb + l * nf, nf)
                    ) / nf
        free(buf)
    return bad
