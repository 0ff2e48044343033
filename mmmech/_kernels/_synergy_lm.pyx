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


# ---------------------------------------------------------------------------------------------
# SynergyFinder-compatible fits (fit="synergyfinder"): drc's LL.4 / L.4 least squares from drc's
# self-starting values, minimised by a port of R's BFGS (`vmmin`, R's src/appl/optim.c, as
# described in R's `optim` manual: numerical central-difference gradients with step ndeps on
# the parscale-d parameters, backtracking factor 0.2, Armijo constant 1e-4, relative tolerance
# reltol, restart rules), then R's `optimhess` finite-difference check. Written from the
# published algorithms; the NumPy/Python reference with the same arithmetic is
# mmmech._synergy_sf._fit_reference. Parameters per curve: (b, c, d, e), drc's names:
#   LL.4: f(x) = c + (d - c) / (1 + exp(b * log(x / e)))       (x: scaled dose)
#   L.4:  f(x) = c + (d - c) / (1 + exp(b * (x - e)))          (x: log dose)
# Status codes (SF_* in mmmech._synergy_sf): 0 fitted; 1 self-start regression failed;
# 2 initial objective not finite; 3 non-finite finite-difference gradient; 4 non-finite
# parameter supplied to the objective; 5 non-finite gradient in the Hessian check.
from libc.math cimport log, copysign, NAN as NAN_

cdef enum:
    SF_MAXN = 64


cdef double _sf_obj(int kind, const double* x, const double* y, int n, const double* p) noexcept nogil:
    """Sum of squared residuals, accumulated in long double as R's sum()."""
    cdef long double s = 0.0
    cdef double f, r, t
    cdef int i
    for i in range(n):
        if kind == 0:
            t = p[0] * log(x[i] / p[3])
        else:
            t = p[0] * (x[i] - p[3])
        f = p[1] + (p[2] - p[1]) / (1.0 + exp(t))
        r = y[i] - f
        s += r * r
    return <double> s


cdef struct SfProb:
    int kind
    int n
    int nfree
    int free[4]
    double full[4]
    double ps[4]
    const double* x
    const double* y


cdef inline double _sf_fn(SfProb* pr, const double* sc, int* err) noexcept nogil:
    cdef double p[4]
    cdef int k
    for k in range(4):
        p[k] = pr.full[k]
    for k in range(pr.nfree):
        if not isfinite(sc[k]):
            err[0] = 4
            return 0.0
        p[pr.free[k]] = sc[k] * pr.ps[k]
    return _sf_obj(pr.kind, pr.x, pr.y, pr.n, p)


cdef inline int _sf_gr(SfProb* pr, const double* b, double* g, double ndeps, int code) noexcept nogil:
    cdef double xx[4]
    cdef double v1, v2
    cdef int i, err = 0
    for i in range(pr.nfree):
        xx[i] = b[i]
    for i in range(pr.nfree):
        xx[i] = b[i] + ndeps
        v1 = _sf_fn(pr, xx, &err)
        xx[i] = b[i] - ndeps
        v2 = _sf_fn(pr, xx, &err)
        if err:
            return err
        g[i] = (v1 - v2) / (2 * ndeps)
        if not isfinite(g[i]):
            return code
        xx[i] = b[i]
    return 0


cdef int _sf_vmmin(SfProb* pr, double* b, double* fmin_out, int maxit, double reltol,
                   int* iter_out) noexcept nogil:
    cdef int n = pr.nfree, i, j, count, funcount, gradcount, it = 0, ilast, err = 0
    cdef double g[4]
    cdef double t[4]
    cdef double X[4]
    cdef double c[4]
    cdef double B[4][4]
    cdef double f, Fmin, gradproj, s, steplength, D1, D2
    cdef double abstol = -INFINITY
    cdef bint accpoint, enough
    iter_out[0] = 0
    f = _sf_fn(pr, b, &err)
    if err:
        return err
    if not isfinite(f):
        return 2
    Fmin = f
    funcount = 1
    gradcount = 1
    err = _sf_gr(pr, b, g, 1e-3, 3)
    if err:
        return err
    it += 1
    ilast = gradcount
    while True:
        if ilast == gradcount:
            for i in range(n):
                for j in range(i):
                    B[i][j] = 0.0
                B[i][i] = 1.0
        for i in range(n):
            X[i] = b[i]
            c[i] = g[i]
        gradproj = 0.0
        for i in range(n):
            s = 0.0
            for j in range(i + 1):
                s -= B[i][j] * g[j]
            for j in range(i + 1, n):
                s -= B[j][i] * g[j]
            t[i] = s
            gradproj += s * g[i]
        if gradproj < 0.0:
            steplength = 1.0
            accpoint = False
            while True:
                count = 0
                for i in range(n):
                    b[i] = X[i] + steplength * t[i]
                    if 10.0 + X[i] == 10.0 + b[i]:
                        count += 1
                if count < n:
                    f = _sf_fn(pr, b, &err)
                    if err:
                        return err
                    funcount += 1
                    accpoint = isfinite(f) and (f <= Fmin + gradproj * steplength * 1e-4)
                    if not accpoint:
                        steplength *= 0.2
                if count == n or accpoint:
                    break
            enough = (f > abstol) and fabs(f - Fmin) > reltol * (fabs(Fmin) + reltol)
            if not enough:
                count = n
                Fmin = f
            if count < n:
                Fmin = f
                err = _sf_gr(pr, b, g, 1e-3, 3)
                if err:
                    return err
                gradcount += 1
                it += 1
                D1 = 0.0
                for i in range(n):
                    t[i] = steplength * t[i]
                    c[i] = g[i] - c[i]
                    D1 += t[i] * c[i]
                if D1 > 0:
                    D2 = 0.0
                    for i in range(n):
                        s = 0.0
                        for j in range(i + 1):
                            s += B[i][j] * c[j]
                        for j in range(i + 1, n):
                            s += B[j][i] * c[j]
                        X[i] = s
                        D2 += s * c[i]
                    D2 = 1.0 + D2 / D1
                    for i in range(n):
                        for j in range(i + 1):
                            B[i][j] += (D2 * t[i] * t[j] - X[i] * t[j] - t[i] * X[j]) / D1
                else:
                    ilast = gradcount
            else:
                if ilast < gradcount:
                    count = 0
                    ilast = gradcount
        else:
            count = 0
            if ilast == gradcount:
                count = n
            else:
                ilast = gradcount
        if it >= maxit:
            break
        if gradcount - ilast > 2 * n:
            ilast = gradcount
        if not (count != n or ilast != gradcount):
            break
    fmin_out[0] = Fmin
    iter_out[0] = it
    return 0


cdef inline double _sf_nrm2(const double* v, int n) noexcept nogil:
    cdef double s = 0.0
    cdef int i
    for i in range(n):
        s = s + fabs(v[i]) * fabs(v[i])
    return sqrt(s)


cdef inline double _sf_dot(const double* a, const double* b, int n) noexcept nogil:
    # reference BLAS ddot order: the first n % 5 terms, then groups of five
    cdef int m = n % 5, i
    cdef double s = 0.0
    for i in range(m):
        s = s + a[i] * b[i]
    i = m
    while i < n:
        s = s + a[i] * b[i] + a[i + 1] * b[i + 1] + a[i + 2] * b[i + 2] \
            + a[i + 3] * b[i + 3] + a[i + 4] * b[i + 4]
        i += 5
    return s


cdef int _sf_line(const double* xv, const double* yv, int n, double* icpt, double* slope) noexcept nogil:
    """Least-squares line through (xv, yv) by Householder QR with LINPACK's dqrdc2/dqrsl
    operation order (R's lm); 1 when the design is rank deficient."""
    cdef double X0[SF_MAXN]
    cdef double X1[SF_MAXN]
    cdef double qty[SF_MAXN]
    cdef double* cols[2]
    cdef double qraux[2]
    cdef double work2[2]
    cdef double nrmxl, fct, tt, temp, tq
    cdef int i, j, l, k = 3, jj
    if n < 2:
        return 1
    for i in range(n):
        X0[i] = 1.0
        X1[i] = xv[i]
        qty[i] = yv[i]
    cols[0] = X0
    cols[1] = X1
    for j in range(2):
        qraux[j] = _sf_nrm2(cols[j], n)
        work2[j] = qraux[j] if qraux[j] != 0.0 else 1.0
    for l in range(2):
        if not (l + 1 >= k or qraux[l] >= work2[l] * 1e-7):
            return 1
        if l + 1 == n:
            continue
        nrmxl = _sf_nrm2(cols[l] + l, n - l)
        if nrmxl == 0.0:
            continue
        if cols[l][l] != 0.0:
            nrmxl = copysign(fabs(nrmxl), cols[l][l])
        fct = 1.0 / nrmxl
        for i in range(l, n):
            cols[l][i] = fct * cols[l][i]
        cols[l][l] = 1.0 + cols[l][l]
        for j in range(l + 1, 2):
            tq = -_sf_dot(cols[l] + l, cols[j] + l, n - l) / cols[l][l]
            for i in range(l, n):
                cols[j][i] = cols[j][i] + tq * cols[l][i]
            if qraux[j] != 0.0:
                tt = 1.0 - (fabs(cols[j][l]) / qraux[j]) * (fabs(cols[j][l]) / qraux[j])
                if tt < 0.0:
                    tt = 0.0
                if fabs(tt) < 1e-6:
                    qraux[j] = _sf_nrm2(cols[j] + l + 1, n - l - 1)
                else:
                    qraux[j] = qraux[j] * sqrt(tt)
        qraux[l] = cols[l][l]
        cols[l][l] = -nrmxl
    for j in range(2 if n - 1 > 2 else n - 1):
        if qraux[j] == 0.0:
            continue
        temp = cols[j][j]
        cols[j][j] = qraux[j]
        tq = -_sf_dot(cols[j] + j, qty + j, n - j) / cols[j][j]
        for i in range(j, n):
            qty[i] = qty[i] + tq * cols[j][i]
        cols[j][j] = temp
    if cols[1][1] == 0.0 or cols[0][0] == 0.0:
        return 1
    qty[1] = qty[1] / cols[1][1]
    qty[0] = qty[0] + (-qty[1]) * cols[1][0]
    qty[0] = qty[0] / cols[0][0]
    icpt[0] = qty[0]
    slope[0] = qty[1]
    return 0


cdef int _sf_fit_one(int kind, const double* x, const double* y, int n, double cfix,
                     bint fixed, double dfix, bint dfixed, int maxit, double reltol,
                     double* par, double* fmin, int* iters) noexcept nogil:
    cdef double ymin = INFINITY, ymax = -INFINITY, ln, cv, dv, yt, a, s
    cdef double xs[SF_MAXN]
    cdef double ys[SF_MAXN]
    cdef double st[4]
    cdef double dpar[4]
    cdef double z[4]
    cdef double g[4]
    cdef double eps
    cdef SfProb pr
    cdef int i, m = 0, k, err
    for i in range(n):
        if y[i] < ymin:
            ymin = y[i]
        if y[i] > ymax:
            ymax = y[i]
    ln = 0.001 * (ymax - ymin)
    cv = ymin - ln
    dv = ymax + ln
    # self-starter: regression of log((d - y) / (y - c)) on log dose (LL.4) or dose (L.4),
    # rows with a missing value dropped (R's na.omit); an infinite value is an lm() error
    for i in range(n):
        yt = log((dv - y[i]) / (y[i] - cv))
        if kind == 0:
            if not (x[i] > 0.0 and isfinite(x[i])):
                continue
            a = log(x[i])
        else:
            a = x[i]
        if yt != yt:
            continue
        if not isfinite(yt) or not isfinite(a):
            return 1
        xs[m] = a
        ys[m] = yt
        m += 1
    if _sf_line(xs, ys, m, &a, &s):
        return 1
    st[0] = s
    st[1] = cv
    st[2] = dv
    st[3] = exp(-a / s) if kind == 0 else -a / s
    pr.kind = kind
    pr.n = n
    pr.x = x
    pr.y = y
    pr.nfree = 0
    for k in range(4):
        pr.full[k] = st[k]
        if k == 1 and fixed:
            pr.full[k] = cfix
            continue
        if k == 2 and dfixed:
            pr.full[k] = dfix
            continue
        pr.free[pr.nfree] = k
        pr.nfree += 1
    for k in range(pr.nfree):
        pr.ps[k] = fabs(st[pr.free[k]])
        if pr.ps[k] < 1e-4:
            pr.ps[k] = 1.0
        if pr.ps[k] != pr.ps[k]:
            return 1          # NA start value: R stops in the parscale assignment
        dpar[k] = st[pr.free[k]] / pr.ps[k]
    err = _sf_vmmin(&pr, dpar, fmin, maxit, reltol, iters)
    if err:
        return err
    # optim(hessian = TRUE): R's optimhess differentiates the gradient at par +- ndeps
    for i in range(pr.nfree):
        eps = 1e-3 / pr.ps[i]
        for k in range(pr.nfree):
            z[k] = dpar[k]
        z[i] = dpar[i] + eps
        err = _sf_gr(&pr, z, g, 1e-3, 5)
        if err:
            return 5 if err == 3 else err
        z[i] = z[i] - 2 * eps
        err = _sf_gr(&pr, z, g, 1e-3, 5)
        if err:
            return 5 if err == 3 else err
    for k in range(4):
        par[k] = pr.full[k]
    for k in range(pr.nfree):
        par[pr.free[k]] = dpar[k] * pr.ps[k]
    return 0


def sf_fit(const int32_t[::1] kind, const float64_t[:, ::1] x, const float64_t[:, ::1] y,
           const int32_t[::1] npts, const float64_t[::1] cfix, const uint8_t[::1] fixed,
           const float64_t[::1] dfix, const uint8_t[::1] dfixed,
           int maxit, double reltol, float64_t[:, ::1] par, int32_t[::1] status,
           int32_t[::1] iters, float64_t[::1] fmin):
    """Fit curve b on x[b, :npts[b]], y[b, :npts[b]] (scaled as drm scales them), with c
    fixed at cfix[b] where fixed[b] and d at dfix[b] where dfixed[b]; fills par[b] =
    (b, c, d, e) in the scaled units, status[b], iters[b] and fmin[b].

    Inputs are prepared and checked by mmmech._synergy_sf (npts[b] <= 64).
    """
    cdef Py_ssize_t B = x.shape[0], b
    cdef int it
    cdef double fm
    for b in range(B):
        it = 0
        fm = NAN_
        status[b] = _sf_fit_one(kind[b], &x[b, 0], &y[b, 0], npts[b], cfix[b], fixed[b] != 0,
                                dfix[b], dfixed[b] != 0, maxit, reltol, &par[b, 0], &fm, &it)
        iters[b] = it
        fmin[b] = fm
