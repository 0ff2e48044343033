# The tumour / M-protein course and the IMWG classification of many patients, row by row, as
# the NumPy reference _tumour_ref.py (read it first; the same operations in the same order, so
# the same bits): the net rates from the network readouts (with the per-patient tumour scales
# and acquired resistance), the exact piecewise-constant integration of burden and M-protein
# (the step factors exp(rate * dt) are computed by the caller with NumPy, so they are NumPy's
# bits), and the IMWG best response / progression of each M-protein course.
# Directives are set once in setup.py.
from cython.parallel cimport prange

from ._typedefs cimport float64_t

from libc.math cimport fabs
from libc.stdint cimport int8_t, int64_t


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


cdef inline double _max0(double x) noexcept nogil:
    # np.maximum(x, 0.0) as NumPy computes it: x when x >= 0 or NaN, else 0
    return x if (x >= 0.0 or x != x) else 0.0


def rates(const float64_t[:, :, ::1] out, const float64_t[::1] g, const float64_t[::1] d,
          const float64_t[::1] r0, const float64_t[::1] growth, const float64_t[::1] sens,
          bint scaled, const float64_t[::1] r0_res, const float64_t[:, ::1] lost, bint resist,
          float64_t[:, ::1] rate, int num_threads=1):
    """rate[r, j] = g_r * 0.5 * (P[j + 1] + P[j]) - d_r * 0.5 * (A[j + 1] + A[j]) with P the
    readout out[..., 0] and A the sum of out[..., 1:]; then (`scaled`) the tumour scales and
    (`resist`) the resistance (``lost`` (R, K): 1 - exp(-lambda t))."""
    cdef Py_ssize_t R = out.shape[0], K1 = out.shape[1], M = out.shape[2], r, j, c
    cdef double gh, dh, a0, a1, x
    if K1 < 1 or M < 1 or rate.shape[0] != R or rate.shape[1] != K1 - 1:
        raise ValueError("rates(): out must be (R, K + 1, M >= 1) and rate (R, K)")
    if not (g.shape[0] == d.shape[0] == r0.shape[0] == growth.shape[0] == sens.shape[0]
            == r0_res.shape[0] == R):
        raise ValueError("rates(): every per-row array must have R entries")
    if resist and (lost.shape[0] != R or lost.shape[1] != K1 - 1):
        raise ValueError("rates(): lost must be (R, K)")
    with nogil:
        for r in prange(R, num_threads=max(num_threads, 1), schedule="static"):
            gh = g[r] * 0.5
            dh = d[r] * 0.5
            a0 = 0.0
            for j in range(K1):
                a1 = 0.0
                if M > 1:
                    a1 = out[r, j, 1]
                    for c in range(2, M):
                        a1 = a1 + out[r, j, c]
                if j > 0:
                    x = gh * (out[r, j, 0] + out[r, j - 1, 0]) - dh * (a1 + a0)
                    if scaled:
                        x = (x + (growth[r] - 1.0) * _max0(r0[r])) - (sens[r] - 1.0) * _max0(
                            r0[r] - x)
                    if resist:
                        x = x + lost[r, j - 1] * _max0(r0_res[r] - x)
                    rate[r, j - 1] = x
                a0 = a1


def integrate(const float64_t[:, ::1] rate, const float64_t[:, ::1] er, double dt,
              const float64_t[::1] k, const float64_t[::1] ek, const float64_t[::1] s,
              const float64_t[::1] m_start, const float64_t[::1] post, float64_t[:, ::1] N,
              float64_t[:, ::1] Mp, int num_threads=1):
    """Burden N and M-protein Mp (R, K + 1) of each row: N[0] = 1, N[j + 1] = N[j] * er[j];
    Mp[0] = m_start, Mp[j + 1] = Mp[j] * ek + (s * N[j]) * frac_j, frac_j = (er[j] - ek) /
    (rate[j] + k) (dt * ek where |rate + k| < 1e-12); then Mp *= post (per row)."""
    cdef Py_ssize_t R = rate.shape[0], K = rate.shape[1], r, j
    cdef double den, frac, m, n
    if er.shape[0] != R or er.shape[1] != K or N.shape[0] != R or N.shape[1] != K + 1:
        raise ValueError("integrate(): er must be (R, K) and N, Mp (R, K + 1)")
    if Mp.shape[0] != R or Mp.shape[1] != K + 1:
        raise ValueError("integrate(): Mp must be (R, K + 1)")
    if not (k.shape[0] == ek.shape[0] == s.shape[0] == m_start.shape[0] == post.shape[0] == R):
        raise ValueError("integrate(): every per-row array must have R entries")
    with nogil:
        for r in prange(R, num_threads=max(num_threads, 1), schedule="static"):
            n = 1.0
            m = m_start[r]
            N[r, 0] = n
            Mp[r, 0] = m * post[r]
            for j in range(K):
                den = rate[r, j] + k[r]
                if fabs(den) < 1e-12:
                    frac = dt * ek[r]
                else:
                    frac = (er[r, j] - ek[r]) / den
                m = m * ek[r] + (s[r] * n) * frac
                n = n * er[r, j]
                N[r, j + 1] = n
                Mp[r, j + 1] = m * post[r]


def classify(const float64_t[:, ::1] m, double cr_reduction, int8_t[::1] cat, int64_t[::1] end,
             float64_t[::1] low, float64_t[::1] reduction, int num_threads=1):
    """IMWG per row of m (P, T), each against its first value: `end` the first progression
    sample (-1: none), `low` the lowest value up to it (or overall), `reduction`
    max(0, 1 - low / m[0]) and `cat` the index in (CR, VGPR, PR, MR, SD, PD)."""
    cdef Py_ssize_t P = m.shape[0], T = m.shape[1], r, t, stop
    cdef double nadir, need, lo, red, x
    cdef int8_t c
    if T < 1:
        raise ValueError("classify(): m must have at least one column")
    if cat.shape[0] != P or end.shape[0] != P or low.shape[0] != P or reduction.shape[0] != P:
        raise ValueError("classify(): outputs must have P entries")
    with nogil:
        for r in prange(P, num_threads=max(num_threads, 1), schedule="static"):
            nadir = m[r, 0]
            lo = m[r, 0]
            stop = -1
            for t in range(T):
                x = m[r, t]
                need = 1.0 if nadir >= 5.0 else 0.5
                if x < lo:
                    lo = x
                if x >= 1.25 * nadir and x - nadir >= need - 1e-12:
                    stop = t
                    break
                if x < nadir:
                    nadir = x
            red = 1.0 - lo / m[r, 0]
            red = red if (red >= 0.0 or red != red) else 0.0  # np.maximum(0.0, red)
            if red >= cr_reduction:
                c = 0
            elif red >= 0.90:
                c = 1
            elif red >= 0.50:
                c = 2
            elif red >= 0.25:
                c = 3
            elif stop >= 0:
                c = 5
            else:
                c = 4
            cat[r] = c
            end[r] = stop
            low[r] = lo
            reduction[r] = red
