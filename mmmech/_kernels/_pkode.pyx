# Nonlinear pharmacokinetics for many problems (patients, courses) at once: the compartment ODEs
# of mmmech.pk.engine (1-3 mammillary compartments plus up to 2 first-order depots, saturable
# elimination vmax exp(-kdes t) C / (km + C), the time-varying linear clearance of
# Disposition.cl_factor) integrated between dosing events and sampled at requested times, in C.
# The reference with the same sampling rules is _pkode_ref.py (a loop over
# mmmech.pk.engine.ode_concentrations, SciPy LSODA); the wrapper that builds these arrays is
# mmmech.pk.engine.ode_batch. Directives: setup.py.
#
# Method: the explicit Dormand-Prince 5(4) pair (local extrapolation, FSAL; the coefficients of
# Dormand & Prince 1980, as in scipy.integrate.RK45), error in the RMS norm of
# err_i / (atol + rtol max(|y_i|, |y_new_i|)), step factor 0.9 err^(-1/5) within [0.2, 10],
# the first step of every segment by Hairer-Norsett-Wanner's rule (scipy's
# select_initial_step). The PK systems here are at most mildly stiff (fastest rate about
# vmax / (km v1) ~ 0.5/h for daratumumab, against steps of hours), so an explicit pair is
# cheaper than a Rosenbrock method. Every sample time is hit exactly (the step is clipped to
# it, the next one resumes from the unclipped proposal); a sample at a dosing time sees the
# state after the dose, as the reference's.
#
# Layout. Problem p has a parameter row par[p] (columns below), its breaks
# brk_t[brk_ptr[p]:brk_ptr[p+1]] (sorted: 0, every dose/lag/infusion start and end up to the
# last sample time, then that time once more, as the reference builds them), its jumps
# (time, state index, amount: a bolus into 0, a depot dose into its depot, after F and the lag)
# and its infusions (start, end, rate). A segment [t_a, t_b) adds the jumps at t_a, runs at the
# sum of the infusion rates with start <= t_a < end, takes the samples t_a <= t < t_b (the last
# segment also t = t_b) and clips the amounts at 0 at its end.
from cython.parallel cimport prange
from libc.math cimport exp, pow, sqrt, fabs, fmax, fmin, nextafter, INFINITY

from ._typedefs cimport float64_t, int32_t

cdef extern from *:
    """
    #ifndef MMMECH_HAVE_OPENMP
    #define MMMECH_HAVE_OPENMP 0
    #endif
    """
    int MMMECH_HAVE_OPENMP

cdef enum:
    MAXS = 5       # states: 3 compartments + 2 depots
    P_NC = 0       # compartments (1-3)
    P_K = 1        # 3 x 3 rate matrix (1/h), row-major, central first
    P_V1 = 10
    P_CL = 11
    P_VMAX = 12
    P_KM = 13
    P_KDES = 14
    P_CLM = 15
    P_KCL = 16
    P_GCL = 17
    P_ND = 18      # depots (0-2)
    P_KA = 19      # 2 absorption rates (1/h)
    NPAR = 21

# status codes
cdef enum:
    OK = 0
    TOO_MANY_STEPS = 1
    STEP_TOO_SMALL = 2
    NOT_FINITE = 3

# Dormand-Prince 5(4)
cdef double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9
cdef double A21 = 1.0 / 5
cdef double A31 = 3.0 / 40, A32 = 9.0 / 40
cdef double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9
cdef double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561
cdef double A54 = -212.0 / 729
cdef double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176
cdef double A65 = -5103.0 / 18656
cdef double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784
cdef double B6 = 11.0 / 84
cdef double E1 = -71.0 / 57600, E3 = 71.0 / 16695, E4 = -71.0 / 1920, E5 = 17253.0 / 339200
cdef double E6 = -22.0 / 525, E7 = 1.0 / 40


def openmp_enabled():
    """True when this module was compiled with OpenMP."""
    return MMMECH_HAVE_OPENMP != 0


def npar():
    """Columns of a problem's parameter row."""
    return NPAR


cdef inline void _rhs(double t, const double* y, double* dy, const double* p, int nc, int nd,
                      double rate) noexcept nogil:
    cdef int i, j
    cdef double s, c, x
    for i in range(nc):
        s = 0.0
        for j in range(nc):
            s = s + p[P_K + 3 * i + j] * y[j]
        dy[i] = s
    s = 0.0
    for j in range(nd):
        dy[nc + j] = -p[P_KA + j] * y[nc + j]
        s = s + p[P_KA + j] * y[nc + j]
    dy[0] = dy[0] + s + rate
    if p[P_VMAX] > 0:
        c = y[0] / p[P_V1]
        dy[0] = dy[0] - p[P_VMAX] * exp(-p[P_KDES] * t) * c / (p[P_KM] + c)
    if p[P_CLM] != 0:
        # the part of the linear clearance above cl (the rate matrix holds cl itself):
        # CL(t)/cl = exp(clm (1 - x / (1 + x))), x = (max(t, 0) / kcl)^gcl
        x = pow(fmax(t, 0.0) / p[P_KCL], p[P_GCL])
        dy[0] = dy[0] - p[P_CL] * (exp(p[P_CLM] * (1.0 - x / (1.0 + x))) - 1.0) * y[0] / p[P_V1]


cdef inline double _rms(const double* v, const double* y0, const double* y1, int n, double rtol,
                        double atol, int both) noexcept nogil:
    cdef int i
    cdef double s = 0.0, sc, a
    for i in range(n):
        a = fabs(y0[i])
        if both:
            a = fmax(a, fabs(y1[i]))
        sc = atol + rtol * a
        s = s + (v[i] / sc) * (v[i] / sc)
    return sqrt(s / n)


cdef double _first_step(double t0, const double* y, const double* f0, double span,
                        const double* p, int nc, int nd, double rate, double rtol, double atol,
                        Py_ssize_t* nfev) noexcept nogil:
    # Hairer, Norsett & Wanner, Solving ODEs I, II.4 (scipy's select_initial_step, order 4)
    cdef int n = nc + nd, i
    cdef double d0, d1, d2, h0, h1
    cdef double y1[MAXS]
    cdef double f1[MAXS]
    cdef double df[MAXS]
    if span <= 0:
        return 0.0
    d0 = _rms(y, y, y, n, rtol, atol, 0)
    d1 = _rms(f0, y, y, n, rtol, atol, 0)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    h0 = fmin(h0, span)
    for i in range(n):
        y1[i] = y[i] + h0 * f0[i]
    _rhs(t0 + h0, y1, f1, p, nc, nd, rate)
    nfev[0] += 1
    for i in range(n):
        df[i] = f1[i] - f0[i]
    d2 = _rms(df, y, y, n, rtol, atol, 0) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = fmax(1e-6, h0 * 1e-3)
    else:
        h1 = pow(0.01 / fmax(d1, d2), 1.0 / 5.0)
    return fmin(fmin(100 * h0, h1), span)


cdef int _advance(double* t, double target, double* y, double* f0, double* h, const double* p,
                  int nc, int nd, double rate, double rtol, double atol, Py_ssize_t max_steps,
                  Py_ssize_t* nstep, Py_ssize_t* nfev) noexcept nogil:
    # Integrate from t[0] to exactly `target` (f0 = f(t, y) on entry and exit; h the proposal)
    cdef int n = nc + nd, i, clipped
    cdef double k2[MAXS]
    cdef double k3[MAXS]
    cdef double k4[MAXS]
    cdef double k5[MAXS]
    cdef double k6[MAXS]
    cdef double k7[MAXS]
    cdef double yt[MAXS]
    cdef double yn[MAXS]
    cdef double er[MAXS]
    cdef double hh, tt, en, fac, left
    while True:
        left = target - t[0]
        if left <= 1e-13 * fmax(1.0, fabs(target)):
            if left != 0.0:
                # a remainder below rounding: one Euler step closes it exactly
                for i in range(n):
                    y[i] = y[i] + left * f0[i]
                t[0] = target
                _rhs(target, y, f0, p, nc, nd, rate)
                nfev[0] += 1
            return OK
        if nstep[0] >= max_steps:
            return TOO_MANY_STEPS
        hh = h[0]
        clipped = 0
        if hh >= left:
            hh = left
            clipped = 1
        if hh < 10.0 * (nextafter(t[0], INFINITY) - t[0]):  # scipy's smallest step
            return STEP_TOO_SMALL
        tt = t[0]
        for i in range(n):
            yt[i] = y[i] + hh * (A21 * f0[i])
        _rhs(tt + C2 * hh, yt, k2, p, nc, nd, rate)
        for i in range(n):
            yt[i] = y[i] + hh * (A31 * f0[i] + A32 * k2[i])
        _rhs(tt + C3 * hh, yt, k3, p, nc, nd, rate)
        for i in range(n):
            yt[i] = y[i] + hh * (A41 * f0[i] + A42 * k2[i] + A43 * k3[i])
        _rhs(tt + C4 * hh, yt, k4, p, nc, nd, rate)
        for i in range(n):
            yt[i] = y[i] + hh * (A51 * f0[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i])
        _rhs(tt + C5 * hh, yt, k5, p, nc, nd, rate)
        for i in range(n):
            yt[i] = y[i] + hh * (A61 * f0[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i]
                                 + A65 * k5[i])
        _rhs(tt + hh, yt, k6, p, nc, nd, rate)
        for i in range(n):
            yn[i] = y[i] + hh * (B1 * f0[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i]
                                 + B6 * k6[i])
        _rhs(tt + hh, yn, k7, p, nc, nd, rate)
        nfev[0] += 6
        nstep[0] += 1
        for i in range(n):
            er[i] = hh * (E1 * f0[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i]
                          + E7 * k7[i])
        en = _rms(er, y, yn, n, rtol, atol, 1)
        if en != en:
            return NOT_FINITE
        if en < 1.0:
            if en == 0.0:
                fac = 10.0
            else:
                fac = fmin(10.0, 0.9 * pow(en, -0.2))
            for i in range(n):
                y[i] = yn[i]
                f0[i] = k7[i]
            if clipped:
                t[0] = target
                # a step cut short to hit a sample: resume from the unclipped proposal
                h[0] = fmax(h[0], hh * fac)
            else:
                t[0] = tt + hh
                h[0] = hh * fac
        else:
            h[0] = hh * fmax(0.2, 0.9 * pow(en, -0.2))


cdef int _solve_one(Py_ssize_t pb, const float64_t[:, ::1] par,
                    const Py_ssize_t[::1] brk_ptr, const float64_t[::1] brk_t,
                    const Py_ssize_t[::1] jmp_ptr, const float64_t[::1] jmp_t,
                    const Py_ssize_t[::1] jmp_idx, const float64_t[::1] jmp_amt,
                    const Py_ssize_t[::1] inf_ptr, const float64_t[::1] inf_s,
                    const float64_t[::1] inf_e, const float64_t[::1] inf_r,
                    const float64_t[::1] times, float64_t[:, ::1] out, double rtol,
                    double atol, Py_ssize_t max_steps, Py_ssize_t* nstep, Py_ssize_t* nfev) noexcept nogil:
    cdef const double* p = &par[pb, 0]
    cdef int nc = <int>p[P_NC], nd = <int>p[P_ND], n, i, st, zero
    cdef Py_ssize_t T = times.shape[0], k = 0, b, b0 = brk_ptr[pb], b1 = brk_ptr[pb + 1]
    cdef Py_ssize_t j, last
    cdef double y[MAXS]
    cdef double f0[MAXS]
    cdef double ta, tb, rate, t, h, v1 = p[P_V1]
    n = nc + nd
    for i in range(MAXS):
        y[i] = 0.0
    # samples before the first break (negative times) have no drug
    while k < T and times[k] < brk_t[b0]:
        out[pb, k] = 0.0
        k = k + 1
    last = b1 - 2
    for b in range(b0, b1 - 1):
        ta = brk_t[b]
        tb = brk_t[b + 1]
        for j in range(jmp_ptr[pb], jmp_ptr[pb + 1]):
            if jmp_t[j] == ta:
                y[jmp_idx[j]] = y[jmp_idx[j]] + jmp_amt[j]
        rate = 0.0
        for j in range(inf_ptr[pb], inf_ptr[pb + 1]):
            if inf_s[j] <= ta and ta < inf_e[j]:
                rate = rate + inf_r[j]
        zero = rate == 0.0
        for i in range(n):
            if y[i] != 0.0:
                zero = 0
        # a zero state without input stays zero (every term is proportional to the amounts)
        if tb <= ta or zero:
            while k < T and (times[k] < tb or (b == last and times[k] <= tb)):
                out[pb, k] = fmax(y[0] / v1, 0.0)
                k = k + 1
            continue
        t = ta
        _rhs(t, y, f0, p, nc, nd, rate)
        nfev[0] += 1
        h = _first_step(t, y, f0, tb - ta, p, nc, nd, rate, rtol, atol, nfev)
        while k < T and (times[k] < tb or (b == last and times[k] <= tb)):
            if times[k] > t:
                st = _advance(&t, times[k], y, f0, &h, p, nc, nd, rate, rtol, atol, max_steps,
                              nstep, nfev)
                if st != OK:
                    return st
            out[pb, k] = fmax(y[0] / v1, 0.0)
            k = k + 1
        if t < tb:
            st = _advance(&t, tb, y, f0, &h, p, nc, nd, rate, rtol, atol, max_steps, nstep, nfev)
            if st != OK:
                return st
        # amounts cannot be negative: clip the solver's noise at the segment's end
        for i in range(n):
            y[i] = fmax(y[i], 0.0)
    while k < T:  # pragma: no cover - the wrapper ends the breaks at the last sample time
        out[pb, k] = fmax(y[0] / v1, 0.0)
        k = k + 1
    return OK


def solve(const float64_t[:, ::1] par, const Py_ssize_t[::1] brk_ptr,
          const float64_t[::1] brk_t, const Py_ssize_t[::1] jmp_ptr,
          const float64_t[::1] jmp_t, const Py_ssize_t[::1] jmp_idx,
          const float64_t[::1] jmp_amt, const Py_ssize_t[::1] inf_ptr,
          const float64_t[::1] inf_s, const float64_t[::1] inf_e, const float64_t[::1] inf_r,
          const float64_t[::1] times, float64_t[:, ::1] out, int32_t[::1] status,
          Py_ssize_t[:, ::1] counts, double rtol, double atol, Py_ssize_t max_steps,
          int num_threads=1):
    """Central concentrations (mg/L) of every problem at the sorted `times` into `out`
    (problems x times); `status[p]` 0 when problem p was solved (1 too many steps, 2 step too
    small, 3 not finite), `counts[p]` its accepted steps and right-hand-side evaluations."""
    cdef Py_ssize_t P = par.shape[0], pb
    if num_threads < 1:
        num_threads = 1
    for pb in prange(P, nogil=True, schedule="dynamic", num_threads=num_threads):
        counts[pb, 0] = 0
        counts[pb, 1] = 0
        status[pb] = _solve_one(pb, par, brk_ptr, brk_t, jmp_ptr, jmp_t, jmp_idx, jmp_amt,
                                inf_ptr, inf_s, inf_e, inf_r, times, out, rtol, atol,
                                max_steps, &counts[pb, 0], &counts[pb, 1])
