# Target occupancy from concentration: theta = c^h / (c^h + K^h), batched over regimens.
# Computed without overflow (the logistic of z = h log(c / K) where (c / K)^h would overflow
# or lose precision), exactly as the NumPy reference _occupancy_ref.py (read it first). Directives are set once in setup.py.
from cython.parallel cimport prange
from libc.math cimport exp, log, fabs, pow
from libc.float cimport DBL_MIN, DBL_MAX

from ._typedefs cimport float64_t


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
        ch = pow(r, h)
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
