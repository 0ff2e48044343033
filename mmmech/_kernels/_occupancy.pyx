# Target occupancy from concentration: theta = c^h / (c^h + K^h), batched over regimens.
# Computed without overflow (the logistic of z = h log(c / K) where (c / K)^h would overflow
# or lose precision), exactly as the NumPy reference _occupancy_ref.py (read it first). Directives are set once in setup.py.
from cython.parallel cimport prange
from libc.math cimport exp, log, fabs, pow
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
