# Bounded Levenberg-Marquardt refinement of B four-parameter log-logistic curves, one curve per
# prange iteration. The NumPy reference with the same semantics is
# mmmech._synergy_fit._lm_reference; the wrapper mmmech._synergy_fit.fit_batch prepares
# everything (log doses, bounds, grid starts) and checks inputs. Directives are set in setup.py.
#
# Parameters per curve: p = (E0, Einf, c, log h) with y = E0 + (Einf - E0) * expit(h * (u - c)),
# u = log(dose / scale) (a very negative u stands for dose 0).
from cython.parallel cimport prange
from libc.math cimport INFINITY, exp, fabs, isfinite, sqrt
from libc.stdlib cimport free as cfree, malloc

from ._typedefs cimport float64_t, int32_t, uint8_t

cdef enum:
    NP = 4


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


cdef inline double _expit(double t) noexcept nogil:
    cdef double e
    if t >= 0.0:
        return 1.0 / (1.0 + exp(-t))
    e = exp(t)
    return e / (1.0 + e)


cdef inline void _eval(const float64_t[:, ::1] u, Py_ssize_t b, Py_ssize_t N, double* q,
                       double* f, double* jac) noexcept nogil:
    """Model values f[N] and, when jac != NULL, the Jacobian jac[N * 4] at parameters q."""
    cdef Py_ssize_t i
    cdef double h = exp(q[3]), amp = q[1] - q[0], s, ds, du
    for i in range(N):
        du = u[b, i] - q[2]
        s = _expit(h * du)
        f[i] = q[0] + amp * s
        if jac != NULL:
            ds = s * (1.0 - s)
            jac[i * NP + 0] = 1.0 - s
            jac[i * NP + 1] = s
            jac[i * NP + 2] = -amp * h * ds
            jac[i * NP + 3] = amp * du * ds * h


cdef inline int _cholesky_solve(double* a, double* rhs, double* x) noexcept nogil:
    """Solve a x = rhs for a symmetric positive-definite 4x4 matrix (a is overwritten)."""
    cdef int i, j, k
    cdef double s
    for j in range(NP):
        s = a[j * NP + j]
        for k in range(j):
            s -= a[j * NP + k] * a[j * NP + k]
        if not (s > 0.0):
            return -1
        a[j * NP + j] = sqrt(s)
        for i in range(j + 1, NP):
            s = a[i * NP + j]
            for k in range(j):
                s -= a[i * NP + k] * a[j * NP + k]
            a[i * NP + j] = s / a[j * NP + j]
    for i in range(NP):
        s = rhs[i]
        for k in range(i):
            s -= a[i * NP + k] * x[k]
        x[i] = s / a[i * NP + i]
    for i in range(NP - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, NP):
            s -= a[k * NP + i] * x[k]
        x[i] = s / a[i * NP + i]
    return 0


cdef void _fit_one(const float64_t[:, ::1] u, const float64_t[:, ::1] y,
                   const float64_t[:, ::1] w, float64_t[:, ::1] p,
                   const float64_t[:, ::1] lo, const float64_t[:, ::1] hi,
                   const uint8_t[:, ::1] freem, const float64_t[::1] span,
                   Py_ssize_t b, int max_iter, double ftol, double xtol,
                   float64_t[::1] sse_out, int32_t[::1] iters_out,
                   double* f, double* fn, double* jac) noexcept nogil:
    cdef Py_ssize_t N = u.shape[1], i, j, k
    cdef double q[NP]
    cdef double qn[NP]
    cdef double g[NP]
    cdef double a[NP * NP]
    cdef double step[NP]
    cdef int fr[NP]
    cdef double lam = 1e-3, sse = 0.0, ssen, r, d, dmax, gain, dfit
    cdef int it, acc, conv, ok
    for j in range(NP):
        q[j] = p[b, j]
    _eval(u, b, N, q, f, jac)
    for i in range(N):
        r = y[b, i] - f[i]
        sse += w[b, i] * r * r
    if not isfinite(sse):
        sse_out[b] = INFINITY
        iters_out[b] = 0
        return
    it = 0
    while it < max_iter:
        it += 1
        for j in range(NP):
            g[j] = 0.0
            for k in range(NP):
                a[j * NP + k] = 0.0
        for i in range(N):
            if w[b, i] == 0.0:
                continue
            r = w[b, i] * (y[b, i] - f[i])
            for j in range(NP):
                g[j] += jac[i * NP + j] * r
                for k in range(j + 1):
                    a[j * NP + k] += w[b, i] * jac[i * NP + j] * jac[i * NP + k]
        for j in range(NP):
            fr[j] = freem[b, j] != 0 and not ((q[j] <= lo[b, j] and g[j] < 0.0) or
                                              (q[j] >= hi[b, j] and g[j] > 0.0))
        dmax = 0.0
        for j in range(NP):
            if fr[j] and a[j * NP + j] > dmax:
                dmax = a[j * NP + j]
        for j in range(NP):
            for k in range(j):
                if fr[j] and fr[k]:
                    a[k * NP + j] = a[j * NP + k]
                else:
                    a[j * NP + k] = 0.0
                    a[k * NP + j] = 0.0
            if fr[j]:
                d = a[j * NP + j]
                a[j * NP + j] = d + lam * (d + 1e-9 * dmax + 1e-12)
            else:
                g[j] = 0.0
                a[j * NP + j] = 1.0 + lam * (1e-9 * dmax + 1e-12)
        ok = _cholesky_solve(a, g, step)
        for j in range(NP):
            qn[j] = q[j] + (step[j] if ok == 0 else 0.0)
            if qn[j] < lo[b, j]:
                qn[j] = lo[b, j]
            if qn[j] > hi[b, j]:
                qn[j] = hi[b, j]
        _eval(u, b, N, qn, fn, NULL)
        ssen = 0.0
        dfit = 0.0
        for i in range(N):
            r = y[b, i] - fn[i]
            ssen += w[b, i] * r * r
            if w[b, i] > 0.0 and fabs(fn[i] - f[i]) > dfit:
                dfit = fabs(fn[i] - f[i])
        acc = isfinite(ssen) and ssen < sse
        gain = sse - ssen if acc else 0.0
        conv = (acc and (gain <= ftol * sse + 1e-18 or dfit <= xtol * span[b])) \
            or lam > 1e12 or sse <= 1e-24
        if acc:
            for j in range(NP):
                q[j] = qn[j]
            sse = ssen
            _eval(u, b, N, q, f, jac)
            lam *= 0.3
        else:
            lam *= 8.0
        if conv:
            break
    for j in range(NP):
        p[b, j] = q[j]
    sse_out[b] = sse
    iters_out[b] = it


def lm_fit(const float64_t[:, ::1] u, const float64_t[:, ::1] y, const float64_t[:, ::1] w,
           float64_t[:, ::1] p, const float64_t[:, ::1] lo, const float64_t[:, ::1] hi,
           const uint8_t[:, ::1] free, const float64_t[::1] span, int max_iter,
           double ftol, double xtol, float64_t[::1] sse, int32_t[::1] iters,
           int num_threads=0):
    """Refine p[b] (B, 4) in place for every curve b; fill sse[b] and iters[b].

    Inputs are checked by mmmech._synergy_fit.fit_batch (shapes (B, N), (B, 4), (B,)).
    """
    cdef Py_ssize_t B = u.shape[0], N = u.shape[1], b
    cdef double* buf
    cdef int nt = num_threads if num_threads > 0 else 0
    if B == 0:
        return
    if nt > 0:
        for b in prange(B, nogil=True, schedule="dynamic", num_threads=nt):
            buf = <double*> malloc((N * 6 + 1) * sizeof(double))
            if buf != NULL:
                _fit_one(u, y, w, p, lo, hi, free, span, b, max_iter, ftol, xtol, sse, iters,
                         buf, buf + N, buf + 2 * N)
                cfree(buf)
    else:
        for b in prange(B, nogil=True, schedule="dynamic"):
            buf = <double*> malloc((N * 6 + 1) * sizeof(double))
            if buf != NULL:
                _fit_one(u, y, w, p, lo, hi, free, span, b, max_iter, ftol, xtol, sse, iters,
                         buf, buf + N, buf + 2 * N)
                cfree(buf)
