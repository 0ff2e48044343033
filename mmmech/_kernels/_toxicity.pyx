# Toxicity counts of one treatment cycle for many patients at once (mmmech.toxicity): the drug
# effect on the fine grid, its RK4 stage means and the count integration, per patient, in C.
# The NumPy reference with the same signature is _toxicity_ref.py (read it first); the
# whole-course reference is mmmech.toxicity's backend="python" path, which the kernel's caller
# equals within 1e-12 (tests/toxicity/test_toxicity_kernel.py). Directives: setup.py.
#
# Concentrations. A term is one drug of one patient: its doses (time h, amount mg, route code)
# and the linear PK model's exponentials (rates lam_i, central weights a_i; per route the
# absorption rate ka (0: bolus), bioavailability f and lag). A bolus adds a_i amt exp(-lam_i d),
# an absorbed dose f amt ka a_i (exp(-lam_i d) - exp(-ka d)) / (ka - lam_i), d = the time since
# the dose (after its lag) exactly as the unit-dose course shifted on the grid computes it,
# (k - shift) step - tlag. Each exponential is a state on the fine grid, multiplied by the
# tabulated exp(-rate j step) (j <= m) and re-anchored every m points or when a dose enters,
# so the cost is per grid point and exponential, not per dose.
from cython.parallel cimport prange
from libc.math cimport exp, log, fabs, rint, ceil
from libc.stdlib cimport malloc, free

from ._typedefs cimport float64_t

cdef extern from *:
    """
    #ifndef MMMECH_HAVE_OPENMP
    #define MMMECH_HAVE_OPENMP 0
    #endif
    """
    int MMMECH_HAVE_OPENMP

# columns of a term's parameter row (term_par)
cdef enum:
    MAXE = 4      # exponentials per PK model
    NR = 3        # routes: 0 iv_bolus, 1 oral, 2 sc
    P_SINCE = 0   # doses before this time (h) are left out (the recent-dose window)
    P_COEF = 1    # the term's slope
    P_NEXP = 2
    P_LAM = 3     # MAXE rates
    P_A = 7       # MAXE weights
    P_KA = 11     # NR absorption rates (0: bolus)
    P_F = 14      # NR bioavailabilities
    P_TLAG = 17   # NR lags (h)
    NPAR = 20
    NSTATE = MAXE + (NR - 1) * (MAXE + 1)
    MAXM = 64

# term kinds (term_idx column 2)
cdef enum:
    K_CONC = 0      # loss += coef C (mg/L)
    K_CONC_AUC = 1  # C in ng/mL feeds the AUC state; loss += coef C
    K_KPD = 2       # loss += coef k A(t) (a K-PD compartment: lam = a = k, all routes bolus)


def openmp_enabled():
    """True when this module was compiled with OpenMP."""
    return MMMECH_HAVE_OPENMP != 0


cdef inline double _d(Py_ssize_t k, int ongrid, Py_ssize_t shift, double step, double tl,
                      double c0, double hm, double te) noexcept nogil:
    # time since the dose (after its lag) at fine point k: on the grid as the shifted unit
    # course has it, off the grid as the direct superposition has it
    if ongrid:
        return (k - shift) * step - tl
    return (c0 + k * hm) - te


cdef int _term_conc(double* out, Py_ssize_t T, int m, double c0, double hm, double step,
                    const float64_t* dt, const float64_t* dmg, const Py_ssize_t* drt,
                    Py_ssize_t nd, const float64_t* par) noexcept nogil:
    """Concentration of one term at the T fine points into out (mg/L; K-PD: k A). Returns -1
    when out of memory."""
    cdef int nexp = <int>par[P_NEXP]
    cdef double since = par[P_SINCE]
    cdef double rate[NSTATE]
    cdef double S[NSTATE]
    cdef double C[NSTATE]
    cdef double coefy[NR][MAXE]
    cdef double R[NSTATE][MAXM + 1]
    cdef int active[NR]
    cdef int used[NSTATE]
    cdef int ns = NSTATE, nu, u
    cdef Py_ssize_t i, j, k, p, q, nev, A, shift, e, L
    cdef int s, r, ongrid, base
    cdef double qd, whole, tl, ka, f, d, w, cs, te
    cdef Py_ssize_t* kf
    cdef Py_ssize_t* order
    cdef double* dl
    for s in range(ns):
        rate[s] = 0.0
        S[s] = 0.0
    for r in range(NR):
        active[r] = 0
    for i in range(nexp):
        rate[i] = par[P_LAM + i]
    for r in range(1, NR):
        ka = par[P_KA + r]
        base = MAXE + (r - 1) * (MAXE + 1)
        for i in range(nexp):
            rate[base + i] = par[P_LAM + i]
            if ka > 0.0:
                coefy[r][i] = ka * par[P_A + i] / (ka - par[P_LAM + i])
        rate[base + MAXE] = ka
    if nd <= 0:
        for k in range(T):
            out[k] = 0.0
        return 0
    kf = <Py_ssize_t*>malloc(nd * sizeof(Py_ssize_t))
    order = <Py_ssize_t*>malloc(nd * sizeof(Py_ssize_t))
    dl = <double*>malloc(nd * sizeof(double))
    if kf == NULL or order == NULL or dl == NULL:
        free(kf)
        free(order)
        free(dl)
        return -1
    # each dose: its first fine point at or after it (after the lag) and the time since then
    nev = 0
    for p in range(nd):
        if not (dt[p] >= since):
            continue
        r = <int>drt[p]
        if par[P_KA + r] > 0.0:
            active[r] = 1
        else:
            active[0] = 1
        tl = par[P_TLAG + r]
        te = dt[p] + tl
        qd = (dt[p] - c0) / step
        whole = rint(qd)
        ongrid = fabs(qd - whole) <= 1e-6
        shift = <Py_ssize_t>whole
        if ongrid:
            k = shift + <Py_ssize_t>ceil(tl / step) - 1
        else:
            k = <Py_ssize_t>ceil((te - c0) / hm) - 1
        if k < 0:
            k = 0
        while k < T and _d(k, ongrid, shift, step, tl, c0, hm, te) < 0.0:
            k += 1
        if k >= T:
            continue
        kf[p] = k
        dl[p] = _d(k, ongrid, shift, step, tl, c0, hm, te)
        # insertion by first point (doses come in time order: mostly appended)
        q = nev
        while q > 0 and kf[order[q - 1]] > k:
            order[q] = order[q - 1]
            q -= 1
        order[q] = p
        nev += 1
    # the states in use: the bolus exponentials, and per absorbed route its own and ka's
    nu = 0
    if active[0]:
        for i in range(nexp):
            used[nu] = i
            C[i] = par[P_A + i]
            nu += 1
    for r in range(1, NR):
        if active[r]:
            base = MAXE + (r - 1) * (MAXE + 1)
            C[base + MAXE] = 0.0
            for i in range(nexp):
                used[nu] = base + i
                C[base + i] = coefy[r][i]
                C[base + MAXE] -= coefy[r][i]
                nu += 1
            used[nu] = base + MAXE
            nu += 1
    for u in range(nu):
        s = used[u]
        for j in range(m + 1):
            R[s][j] = exp(-rate[s] * (j * step))
    # segments between anchors (every m points, and where doses enter): on each, the
    # states are fixed and the concentration is sum_s (C_s S_s) exp(-rate_s j step)
    A = 0
    q = 0
    while True:
        if q < nev and kf[order[q]] == A:
            while q < nev and kf[order[q]] == A:
                p = order[q]
                r = <int>drt[p]
                d = dl[p]
                ka = par[P_KA + r]
                if ka > 0.0:
                    f = par[P_F + r]
                    w = f * dmg[p]
                    base = MAXE + (r - 1) * (MAXE + 1)
                    for i in range(nexp):
                        S[base + i] += w * exp(-par[P_LAM + i] * d)
                    S[base + MAXE] += w * exp(-ka * d)
                else:
                    w = dmg[p]
                    for i in range(nexp):
                        S[i] += w * exp(-par[P_LAM + i] * d)
                q += 1
        e = A + m
        if q < nev and kf[order[q]] < e:
            e = kf[order[q]]
        if e > T:
            e = T
        L = e - A
        for j in range(L):
            out[A + j] = 0.0
        for u in range(nu):
            s = used[u]
            cs = C[s] * S[s]
            for j in range(L):
                out[A + j] += cs * R[s][j]
        if e >= T:
            break
        for u in range(nu):
            s = used[u]
            S[s] = S[s] * R[s][L]
        A = e
    free(kf)
    free(order)
    free(dl)
    return 0


cdef void _stage_means(const double* e, Py_ssize_t n, int m, double h,
                       double* es, double* em, double* ee) noexcept nogil:
    """The RK4 stage means of e (n m + 1 fine points): the trapezoid cumulative integral, as
    myelosuppression.stage_means computes it (a sequential cumulative sum times h / m)."""
    cdef int a = m // 6, b = 5 * m // 6
    cdef double hm = h / m
    cdef double wa = (a * h) / m, wb = ((b - a) * h) / m, wc = ((m - b) * h) / m
    cdef double acc = 0.0, c0, ca = 0.0, cb = 0.0, cm
    cdef Py_ssize_t i, j, k
    for i in range(n):
        k = i * m
        c0 = acc * hm
        for j in range(1, m + 1):
            acc = acc + 0.5 * (e[k + j] + e[k + j - 1])
            if j == a:
                ca = acc * hm
            if j == b:
                cb = acc * hm
        cm = acc * hm
        es[i] = (ca - c0) / wa
        em[i] = (cb - ca) / wb
        ee[i] = (cm - cb) / wc


cdef int _effects(Py_ssize_t pt, int channels, Py_ssize_t T, int m, double c0, double hm,
                  double step, const float64_t[::1] dose_t, const float64_t[::1] dose_mg,
                  const Py_ssize_t[::1] dose_route, const Py_ssize_t[::1] term_ptr,
                  const Py_ssize_t[:, ::1] term_idx, const float64_t[:, ::1] term_par,
                  double* e0, double* e1, double* buf) noexcept nogil:
    """Patient pt's drivers on the fine grid: e0 = sum of coef x term (channel 0), e1 = the
    ixazomib concentration in ng/mL feeding the AUC state (channel 1, when channels == 2)."""
    cdef Py_ssize_t t, k, d0, d1
    cdef int kind
    cdef double coef, cng
    for k in range(T):
        e0[k] = 0.0
    if channels == 2:
        for k in range(T):
            e1[k] = 0.0
    for t in range(term_ptr[pt], term_ptr[pt + 1]):
        d0 = term_idx[t, 0]
        d1 = term_idx[t, 1]
        kind = <int>term_idx[t, 2]
        coef = term_par[t, P_COEF]
        if d1 > d0:
            if _term_conc(buf, T, m, c0, hm, step, &dose_t[d0], &dose_mg[d0],
                          &dose_route[d0], d1 - d0, &term_par[t, 0]) != 0:
                return -1
        else:
            for k in range(T):
                buf[k] = 0.0
        if kind == K_CONC_AUC and channels == 2:
            for k in range(T):
                cng = 1000.0 * buf[k]
                e1[k] = e1[k] + cng
                e0[k] = e0[k] + coef * cng
        else:
            for k in range(T):
                e0[k] = e0[k] + coef * buf[k]
    return 0


cdef int _friberg_one(Py_ssize_t pt, Py_ssize_t n, int m, double c0, double h, double step,
                      const float64_t[::1] dose_t, const float64_t[::1] dose_mg,
                      const Py_ssize_t[::1] dose_route, const Py_ssize_t[::1] term_ptr,
                      const Py_ssize_t[:, ::1] term_idx, const float64_t[:, ::1] term_par,
                      double scale, double ktr, double gam, double base,
                      float64_t[:, ::1] state, float64_t[:, ::1] out) noexcept nogil:
    cdef Py_ssize_t T = n * m + 1, i, k
    cdef double hm = h / m, hh = 0.5 * h, h6 = h / 6.0
    cdef double* e = <double*>malloc((2 * T + 3 * n) * sizeof(double))
    cdef double *buf
    cdef double *es
    cdef double *em
    cdef double *ee
    cdef double y0, y1, y2, y3, y4, u0, u1, u2, u3, u4, fb, x
    cdef double a0, a1, a2, a3, a4, b0, b1, b2, b3, b4
    cdef double cc0, cc1, cc2, cc3, cc4, dd0, dd1, dd2, dd3, dd4, e0_, em_, e1_
    if e == NULL:
        return -1
    buf = e + T
    es = buf + T
    em = es + n
    ee = em + n
    if _effects(pt, 1, T, m, c0, hm, step, dose_t, dose_mg, dose_route, term_ptr, term_idx,
                term_par, e, NULL, buf) != 0:
        free(e)
        return -1
    for k in range(T):
        x = e[k] * scale
        e[k] = x if x < 1.0 else 1.0
    _stage_means(e, n, m, h, es, em, ee)
    y0 = state[pt, 0]
    y1 = state[pt, 1]
    y2 = state[pt, 2]
    y3 = state[pt, 3]
    y4 = state[pt, 4]
    out[pt, 0] = y4
    for i in range(n):
        e0_ = es[i]
        em_ = em[i]
        e1_ = ee[i]
        fb = exp(gam * log(base / (y4 if y4 > 1e-12 else 1e-12)))
        a0 = ktr * y0 * (1.0 - e0_) * fb - ktr * y0
        a1 = ktr * (y0 - y1)
        a2 = ktr * (y1 - y2)
        a3 = ktr * (y2 - y3)
        a4 = ktr * (y3 - y4)
        u0 = y0 + hh * a0
        u1 = y1 + hh * a1
        u2 = y2 + hh * a2
        u3 = y3 + hh * a3
        u4 = y4 + hh * a4
        fb = exp(gam * log(base / (u4 if u4 > 1e-12 else 1e-12)))
        b0 = ktr * u0 * (1.0 - em_) * fb - ktr * u0
        b1 = ktr * (u0 - u1)
        b2 = ktr * (u1 - u2)
        b3 = ktr * (u2 - u3)
        b4 = ktr * (u3 - u4)
        u0 = y0 + hh * b0
        u1 = y1 + hh * b1
        u2 = y2 + hh * b2
        u3 = y3 + hh * b3
        u4 = y4 + hh * b4
        fb = exp(gam * log(base / (u4 if u4 > 1e-12 else 1e-12)))
        cc0 = ktr * u0 * (1.0 - em_) * fb - ktr * u0
        cc1 = ktr * (u0 - u1)
        cc2 = ktr * (u1 - u2)
        cc3 = ktr * (u2 - u3)
        cc4 = ktr * (u3 - u4)
        u0 = y0 + h * cc0
        u1 = y1 + h * cc1
        u2 = y2 + h * cc2
        u3 = y3 + h * cc3
        u4 = y4 + h * cc4
        fb = exp(gam * log(base / (u4 if u4 > 1e-12 else 1e-12)))
        dd0 = ktr * u0 * (1.0 - e1_) * fb - ktr * u0
        dd1 = ktr * (u0 - u1)
        dd2 = ktr * (u1 - u2)
        dd3 = ktr * (u2 - u3)
        dd4 = ktr * (u3 - u4)
        y0 = y0 + h6 * (a0 + 2 * b0 + 2 * cc0 + dd0)
        y1 = y1 + h6 * (a1 + 2 * b1 + 2 * cc1 + dd1)
        y2 = y2 + h6 * (a2 + 2 * b2 + 2 * cc2 + dd2)
        y3 = y3 + h6 * (a3 + 2 * b3 + 2 * cc3 + dd3)
        y4 = y4 + h6 * (a4 + 2 * b4 + 2 * cc4 + dd4)
        out[pt, i + 1] = y4
    state[pt, 0] = y0
    state[pt, 1] = y1
    state[pt, 2] = y2
    state[pt, 3] = y3
    state[pt, 4] = y4
    free(e)
    return 0


def friberg_cycle(double c0, double h, Py_ssize_t n, int m, double step,
                  const float64_t[::1] dose_t, const float64_t[::1] dose_mg,
                  const Py_ssize_t[::1] dose_route, const Py_ssize_t[::1] term_ptr,
                  const Py_ssize_t[:, ::1] term_idx, const float64_t[:, ::1] term_par,
                  const float64_t[::1] scale, double ktr, double gamma,
                  const float64_t[::1] baseline, float64_t[:, ::1] state,
                  float64_t[:, ::1] out, int num_threads=1):
    """One cycle of the Friberg neutrophil model for every patient (row) of `state` (n_pat, 5),
    RK4 with n steps of h from c0 and the drug effect min(1, scale sum coef C) averaged over each
    stage's share of the step on m sub-points; out (n_pat, n + 1) gets the circulating count at
    the step boundaries, state the final compartments. Inputs checked by the caller."""
    cdef Py_ssize_t P = state.shape[0], pt
    cdef int bad = 0
    if m < 6 or m > MAXM or m % 6 != 0:
        raise ValueError(f"friberg_cycle(): m must be a multiple of 6 in [6, {MAXM}], got {m}")
    if num_threads < 1:
        num_threads = 1
    for pt in prange(P, nogil=True, schedule="dynamic", num_threads=num_threads):
        if _friberg_one(pt, n, m, c0, h, step, dose_t, dose_mg, dose_route, term_ptr,
                        term_idx, term_par, scale[pt], ktr, gamma, baseline[pt], state,
                        out) != 0:
            bad = 1
    if bad:
        raise MemoryError("friberg_cycle(): out of memory")


cdef int _platelet_one(Py_ssize_t pt, Py_ssize_t n, int m, double c0, double h, double step,
                       const float64_t[::1] dose_t, const float64_t[::1] dose_mg,
                       const Py_ssize_t[::1] dose_route, const Py_ssize_t[::1] term_ptr,
                       const Py_ssize_t[:, ::1] term_idx, const float64_t[:, ::1] term_par,
                       double sc, double auc_coef, double kprp, double kin,
                       float64_t[:, ::1] state, float64_t[:, ::1] out) noexcept nogil:
    cdef Py_ssize_t T = n * m + 1, i
    cdef double hm = h / m, hh = 0.5 * h, h6 = h / 6.0
    cdef double* e = <double*>malloc((3 * T + 6 * n) * sizeof(double))
    cdef double *e1
    cdef double *buf
    cdef double *s0
    cdef double *s1
    cdef double *s2
    cdef double *t0
    cdef double *t1
    cdef double *t2
    cdef double prol, z1, z2, z3, auc, auc_new, mean0, mean1, a, eq, prol_new, p_mid
    cdef double k11, k12, k13, k21, k22, k23, k31, k32, k33, k41, k42, k43, w1, w2, w3
    if e == NULL:
        return -1
    e1 = e + T
    buf = e1 + T
    s0 = buf + T
    s1 = s0 + n
    s2 = s1 + n
    t0 = s2 + n
    t1 = t0 + n
    t2 = t1 + n
    if _effects(pt, 2, T, m, c0, hm, step, dose_t, dose_mg, dose_route, term_ptr, term_idx,
                term_par, e, e1, buf) != 0:
        free(e)
        return -1
    _stage_means(e, n, m, h, s0, s1, s2)
    _stage_means(e1, n, m, h, t0, t1, t2)
    prol = state[pt, 0]
    z1 = state[pt, 1]
    z2 = state[pt, 2]
    z3 = state[pt, 3]
    auc = state[pt, 4]
    out[pt, 0] = z3
    for i in range(n):
        mean0 = (s0[i] + 4.0 * s1[i] + s2[i]) / 6.0
        mean1 = (t0[i] + 4.0 * t1[i] + t2[i]) / 6.0
        auc_new = auc + h * mean1
        a = kprp + sc * (mean0 + auc_coef * 0.5 * (auc + auc_new))
        eq = kin / a
        prol_new = eq + (prol - eq) * exp(-a * h)
        p_mid = 0.5 * (prol + prol_new)
        k11 = kprp * (prol - z1)
        k12 = kprp * (z1 - z2)
        k13 = kprp * z2 - kin * z3
        w1 = z1 + hh * k11
        w2 = z2 + hh * k12
        w3 = z3 + hh * k13
        k21 = kprp * (p_mid - w1)
        k22 = kprp * (w1 - w2)
        k23 = kprp * w2 - kin * w3
        w1 = z1 + hh * k21
        w2 = z2 + hh * k22
        w3 = z3 + hh * k23
        k31 = kprp * (p_mid - w1)
        k32 = kprp * (w1 - w2)
        k33 = kprp * w2 - kin * w3
        w1 = z1 + h * k31
        w2 = z2 + h * k32
        w3 = z3 + h * k33
        k41 = kprp * (prol_new - w1)
        k42 = kprp * (w1 - w2)
        k43 = kprp * w2 - kin * w3
        z1 = z1 + h6 * (k11 + 2 * k21 + 2 * k31 + k41)
        z2 = z2 + h6 * (k12 + 2 * k22 + 2 * k32 + k42)
        z3 = z3 + h6 * (k13 + 2 * k23 + 2 * k33 + k43)
        prol = prol_new
        auc = auc_new
        out[pt, i + 1] = z3
    state[pt, 0] = prol
    state[pt, 1] = z1
    state[pt, 2] = z2
    state[pt, 3] = z3
    state[pt, 4] = auc
    free(e)
    return 0


def platelet_cycle(double c0, double h, Py_ssize_t n, int m, double step,
                   const float64_t[::1] dose_t, const float64_t[::1] dose_mg,
                   const Py_ssize_t[::1] dose_route, const Py_ssize_t[::1] term_ptr,
                   const Py_ssize_t[:, ::1] term_idx, const float64_t[:, ::1] term_par,
                   const float64_t[::1] scale, const float64_t[::1] auc_coef, double kprp,
                   double kin, float64_t[:, ::1] state, float64_t[:, ::1] out,
                   int num_threads=1):
    """One cycle of the platelet model (Srimani 2022) for every patient (row) of `state`
    (n_pat, 5: precursors, two transit compartments, circulating, ixazomib AUC): the exact
    exponential step of the precursor pool for the step's mean loss, RK4 for the chain, as
    platelets.simulate; out (n_pat, n + 1) gets the normalised circulating count."""
    cdef Py_ssize_t P = state.shape[0], pt
    cdef int bad = 0
    if m < 6 or m > MAXM or m % 6 != 0:
        raise ValueError(f"platelet_cycle(): m must be a multiple of 6 in [6, {MAXM}], got {m}")
    if num_threads < 1:
        num_threads = 1
    for pt in prange(P, nogil=True, schedule="dynamic", num_threads=num_threads):
        if _platelet_one(pt, n, m, c0, h, step, dose_t, dose_mg, dose_route, term_ptr,
                         term_idx, term_par, scale[pt], auc_coef[pt], kprp, kin, state,
                         out) != 0:
            bad = 1
    if bad:
        raise MemoryError("platelet_cycle(): out of memory")
