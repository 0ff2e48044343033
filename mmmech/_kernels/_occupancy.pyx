# Target occupancy from concentration: theta = c^h / (c^h + K^h), batched over regimens.
# Directives are set once in setup.py.
from cython.parallel cimport prange
from libc.math cimport pow

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
    cdef double ch
    if c <= 0.0:
        return 0.0
    ch = pow(c / k, h)
    return ch / (1.0 + ch)


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
