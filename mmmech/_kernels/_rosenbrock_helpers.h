/* C helpers of the Rosenbrock course kernel _rosenbrock.pyx (lane-interleaved loops, MM_LANES
   lanes; see _rosenbrock_ref.py for the mathematics). Reuses the Hill and gather loops of the
   logic kernel (_logic_helpers.h), so the right-hand side has the same bits as there. */
#ifndef MMMECH_ROSENBROCK_HELPERS_H
#define MMMECH_ROSENBROCK_HELPERS_H
#include "_logic_helpers.h"
#include <math.h>

/* Rule programs over one value array v ((E + n_nl) * L): v[0 : E*L] holds the literals in
   slot order (the moving ones written by mr_hill_pow, the constant ones once per interval), the
   ops that are not literals (NOT, AND, OR, CONST; nl_*) write v[E*L ...]; D = ((ymax * F - X) *
   free) / tau for every node with a rule, F = v[fval[j]] (same arithmetic as mm_rules). */
MM_CLONES
static void mr_rules(Py_ssize_t n_rule, const int32_t* MM_RESTRICT rule_nodes,
                     const int32_t* MM_RESTRICT nl_ptr, const int32_t* MM_RESTRICT nl_op,
                     const int32_t* MM_RESTRICT nl_out, const int32_t* MM_RESTRICT nl_a1,
                     const int32_t* MM_RESTRICT nl_a2, const int32_t* MM_RESTRICT fval,
                     const double* MM_RESTRICT X, const double* MM_RESTRICT ymax,
                     const double* MM_RESTRICT tau, const double* MM_RESTRICT fr,
                     double* MM_RESTRICT v, double* MM_RESTRICT D)
{
    for (Py_ssize_t j = 0; j < n_rule; j++) {
        for (int32_t a = nl_ptr[j]; a < nl_ptr[j + 1]; a++) {
            int op = nl_op[a];
            double* o = v + (Py_ssize_t)nl_out[a] * MM_LANES;
            if (op == 2) {
                const double* b = v + (Py_ssize_t)nl_a1[a] * MM_LANES;
                const double* t = v + (Py_ssize_t)nl_a2[a] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) o[l] = b[l] * t[l];
            } else if (op == 3) {
                const double* b = v + (Py_ssize_t)nl_a1[a] * MM_LANES;
                const double* t = v + (Py_ssize_t)nl_a2[a] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) o[l] = 1.0 - (1.0 - b[l]) * (1.0 - t[l]);
            } else if (op == 1) {
                const double* x = v + (Py_ssize_t)nl_a1[a] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) o[l] = 1.0 - x[l];
            } else {
                double c = (double)nl_a2[a];
                for (int l = 0; l < MM_LANES; l++) o[l] = c;
            }
        }
        const Py_ssize_t i = rule_nodes[j];
        const double* F = v + (Py_ssize_t)fval[j] * MM_LANES;
        const Py_ssize_t base = i * MM_LANES;
        for (int l = 0; l < MM_LANES; l++)
            D[base + l] = ((ymax[base + l] * F[l] - X[base + l]) * fr[base + l]) / tau[base + l];
    }
}

/* Per group u of moving edges sharing their source and their Hill exponent: the clipped source
   activity pxg[u] = clip(X[gsrc[u]], 0, 1) (mm_gather_clip) and its power xnb[u] = pxg^n (mm_pow_pos:
   the operations of mm_hill, so the same bits), n = gn[u] (per lane). */
MM_CLONES
static void mr_pow(Py_ssize_t npow, Py_ssize_t nxn, const int32_t* MM_RESTRICT gsrc,
                   const double* MM_RESTRICT X, const double* MM_RESTRICT gn,
                   double* MM_RESTRICT pxg, double* MM_RESTRICT xnb)
{
    for (Py_ssize_t u = 0; u < npow; u++) {
        const double* xs = X + (Py_ssize_t)gsrc[u] * MM_LANES;
        double* px = pxg + u * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) {
            double v = xs[l];
            px[l] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
        }
    }
    /* the powers in one flat loop over all groups and lanes (independent elements: the
       compiler overlaps their polynomial chains; the same operations, so the same bits) */
    /* only the first nxn groups: the others hold identity edges only, whose x^n is never read */
    const Py_ssize_t tot = nxn * MM_LANES;
    for (Py_ssize_t q = 0; q < tot; q++) xnb[q] = mm_pow_pos(pxg[q], gn[q]);
}

/* The rest of mm_hill for the moving edges, from the shared powers xnb and clipped sources pxg
   (mr_pow), into out (the literal slots of v) */
MM_CLONES
static void mr_hill_pow(Py_ssize_t nd, const int32_t* MM_RESTRICT pow_id,
                        const double* MM_RESTRICT pxg, const double* MM_RESTRICT xnb,
                        const double* MM_RESTRICT B, const double* MM_RESTRICT Kn,
                        const double* MM_RESTRICT w, const double* MM_RESTRICT lin,
                        double* MM_RESTRICT out)
{
    for (Py_ssize_t q = 0; q < nd; q++) {
        const double* xn = xnb + (Py_ssize_t)pow_id[q] * MM_LANES;
        const double* px = pxg + (Py_ssize_t)pow_id[q] * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) {
            Py_ssize_t e = q * MM_LANES + l;
            double xv = px[l];
            double h = lin[e] != 0.0 ? xv : B[e] * xn[l] / (Kn[e] + xn[l]);
            h = xv != xv ? xv : h;
            out[e] = w[e] * h;
        }
    }
}

/* dh/dx of the moving edges' literals h = w f(x) (x the clipped source, ph the values mm_hill
   gave): with x^n / (Kn + x^n) = h / (w B), dh/dx = n h (1 - h / (w B)) / x; at x = 0: w B / Kn
   for n = 1, else 0 (n > 1; n < 1 has an infinite slope there and is given 0); 1 * w for the
   identity; 0 where the raw source activity lies outside [0, 1] (the clip) or w B = 0. */
MM_CLONES
static void mr_hill_d(Py_ssize_t nd, const int32_t* MM_RESTRICT src, const int32_t* MM_RESTRICT pow_id,
                      const double* MM_RESTRICT X, const double* MM_RESTRICT pxg,
                      const double* MM_RESTRICT ph,
                      const double* MM_RESTRICT n, const double* MM_RESTRICT B,
                      const double* MM_RESTRICT Kn, const double* MM_RESTRICT w,
                      const double* MM_RESTRICT lin, double* MM_RESTRICT dh)
{
    for (Py_ssize_t q = 0; q < nd; q++) {
        const double* xs = X + (Py_ssize_t)src[q] * MM_LANES;
        const double* px = pxg + (Py_ssize_t)pow_id[q] * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) {
            Py_ssize_t e = q * MM_LANES + l;
            double raw = xs[l];
            double x = px[l];
            double wb = w[e] * B[e];
            double d;
            if (lin[e] != 0.0) {
                d = w[e];
            } else if (wb == 0.0) {
                d = 0.0;
            } else if (x > 0.0) {
                d = n[e] * ph[e] * (1.0 - ph[e] / wb) / x;
            } else {
                d = n[e] == 1.0 ? wb / Kn[e] : 0.0;
            }
            dh[e] = (raw < 0.0 || raw > 1.0 || raw != raw) ? 0.0 : d;
        }
    }
}

/* W = I / (gamma h) - J into a (nnz * L): diagonal 1/(gamma h) + free/tau, then for each literal
   whose source has a rule, a[pos] -= free ymax / tau * dF/dliteral * dh. The reverse pass over
   each rule program computes dF/dliteral (adj, indexed as v: vidx[q] is op q's value; arg1/arg2
   are value indices too): every op is the operand of one op. */
MM_CLONES
static void mr_matrix(Py_ssize_t m, const int32_t* MM_RESTRICT perm,
                      const int32_t* MM_RESTRICT diag_pos, Py_ssize_t nnz,
                      Py_ssize_t n_rule, const int32_t* MM_RESTRICT rule_nodes,
                      const int64_t* MM_RESTRICT prog_ptr, const int32_t* MM_RESTRICT prog_op,
                      const int32_t* MM_RESTRICT prog_slot, const int32_t* MM_RESTRICT arg1,
                      const int32_t* MM_RESTRICT arg2, const int32_t* MM_RESTRICT vidx,
                      const int32_t* MM_RESTRICT lit_pos,
                      const double* MM_RESTRICT v, double* MM_RESTRICT adj,
                      const double* MM_RESTRICT dh, const double* MM_RESTRICT ymax,
                      const double* MM_RESTRICT tau, const double* MM_RESTRICT fr,
                      const double* MM_RESTRICT inv_gh, double* MM_RESTRICT a)
{
    memset(a, 0, (size_t)nnz * MM_LANES * sizeof(double));
    for (Py_ssize_t k = 0; k < m; k++) {
        Py_ssize_t i = perm[k];
        double* d = a + (Py_ssize_t)diag_pos[k] * MM_LANES;
        for (int l = 0; l < MM_LANES; l++)
            d[l] = inv_gh[l] + fr[i * MM_LANES + l] / tau[i * MM_LANES + l];
    }
    for (Py_ssize_t j = 0; j < n_rule; j++) {
        Py_ssize_t i = rule_nodes[j];
        double c[MM_LANES];
        for (int l = 0; l < MM_LANES; l++)
            c[l] = fr[i * MM_LANES + l] * ymax[i * MM_LANES + l] / tau[i * MM_LANES + l];
        int64_t a0 = prog_ptr[i], a1 = prog_ptr[i + 1];
        double* r = adj + (Py_ssize_t)vidx[a1 - 1] * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) r[l] = 1.0;
        for (int64_t q = a1 - 1; q >= a0; q--) {
            int op = prog_op[q];
            const double* g = adj + (Py_ssize_t)vidx[q] * MM_LANES;
            if (op == 1) {
                double* x = adj + (Py_ssize_t)arg1[q] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) x[l] = -g[l];
            } else if (op == 2) {
                double* x = adj + (Py_ssize_t)arg1[q] * MM_LANES;
                double* y = adj + (Py_ssize_t)arg2[q] * MM_LANES;
                const double* vx = v + (Py_ssize_t)arg1[q] * MM_LANES;
                const double* vy = v + (Py_ssize_t)arg2[q] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) { x[l] = g[l] * vy[l]; y[l] = g[l] * vx[l]; }
            } else if (op == 3) {
                double* x = adj + (Py_ssize_t)arg1[q] * MM_LANES;
                double* y = adj + (Py_ssize_t)arg2[q] * MM_LANES;
                const double* vx = v + (Py_ssize_t)arg1[q] * MM_LANES;
                const double* vy = v + (Py_ssize_t)arg2[q] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) {
                    x[l] = g[l] * (1.0 - vy[l]);
                    y[l] = g[l] * (1.0 - vx[l]);
                }
            } else if (op == 0 && lit_pos[q] >= 0) {
                double* dst = a + (Py_ssize_t)lit_pos[q] * MM_LANES;
                const double* dd = dh + (Py_ssize_t)prog_slot[q] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) dst[l] -= c[l] * g[l] * dd[l];
            }
        }
    }
}

/* In-place LU without pivoting in the fixed order (diag inverses into dinv); bad[l] = 1 where a
   pivot is tiny or not finite. */
MM_CLONES
static void mr_lu(Py_ssize_t m, const int32_t* MM_RESTRICT diag_pos,
                  const int32_t* MM_RESTRICT l_ptr, const int32_t* MM_RESTRICT l_pos,
                  const int32_t* MM_RESTRICT upd_ptr, const int32_t* MM_RESTRICT upd_dst,
                  const int32_t* MM_RESTRICT upd_l, const int32_t* MM_RESTRICT upd_u,
                  double* MM_RESTRICT a, double* MM_RESTRICT dinv, int* MM_RESTRICT bad)
{
    for (Py_ssize_t k = 0; k < m; k++) {
        const double* d = a + (Py_ssize_t)diag_pos[k] * MM_LANES;
        double* di = dinv + k * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) {
            double p = d[l];
            double ap = p < 0.0 ? -p : p;
            if (!(ap > 1e-300) || ap > 1e300) { bad[l] = 1; p = 1.0; }
            di[l] = 1.0 / p;
        }
        for (int32_t q = l_ptr[k]; q < l_ptr[k + 1]; q++) {
            double* x = a + (Py_ssize_t)l_pos[q] * MM_LANES;
            for (int l = 0; l < MM_LANES; l++) x[l] *= di[l];
        }
        for (int32_t q = upd_ptr[k]; q < upd_ptr[k + 1]; q++) {
            double* x = a + (Py_ssize_t)upd_dst[q] * MM_LANES;
            const double* lv = a + (Py_ssize_t)upd_l[q] * MM_LANES;
            const double* uv = a + (Py_ssize_t)upd_u[q] * MM_LANES;
            for (int l = 0; l < MM_LANES; l++) x[l] -= lv[l] * uv[l];
        }
    }
}

/* Solve W x = b in place for the m rule nodes, numbered in elimination order (the kernel
   renumbers the nodes so: rule nodes first, in the order of `structure`): forward and backward
   substitution on b (m * L). */
MM_CLONES
static void mr_solve(Py_ssize_t m, const int32_t* MM_RESTRICT l_ptr,
                     const int32_t* MM_RESTRICT l_pos, const int32_t* MM_RESTRICT l_row,
                     const int32_t* MM_RESTRICT u_ptr, const int32_t* MM_RESTRICT u_pos,
                     const int32_t* MM_RESTRICT u_col, const double* MM_RESTRICT a,
                     const double* MM_RESTRICT dinv, double* MM_RESTRICT b)
{
    for (Py_ssize_t k = 0; k < m; k++) {
        const double* bk = b + k * MM_LANES;
        for (int32_t q = l_ptr[k]; q < l_ptr[k + 1]; q++) {
            double* bi = b + (Py_ssize_t)l_row[q] * MM_LANES;
            const double* lv = a + (Py_ssize_t)l_pos[q] * MM_LANES;
            for (int l = 0; l < MM_LANES; l++) bi[l] -= lv[l] * bk[l];
        }
    }
    for (Py_ssize_t k = m - 1; k >= 0; k--) {
        double* bk = b + k * MM_LANES;
        for (int32_t q = u_ptr[k]; q < u_ptr[k + 1]; q++) {
            const double* bj = b + (Py_ssize_t)u_col[q] * MM_LANES;
            const double* uv = a + (Py_ssize_t)u_pos[q] * MM_LANES;
            for (int l = 0; l < MM_LANES; l++) bk[l] -= uv[l] * bj[l];
        }
        const double* di = dinv + k * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) bk[l] *= di[l];
    }
}

/* en[l] = sum_i (err_i / (atol + rtol max(|y_i|, |ynew_i|)))^2 with err = sum_j re[j] K_j
   (terms with re[j] = 0 skipped; a NaN in ynew wins the max), lanes innermost; over the first N
   nodes (the rule nodes: the others have err = 0), stage j's K at Ks + j * NL */
MM_CLONES
static void mr_errnorm(Py_ssize_t N, Py_ssize_t NL, Py_ssize_t ns, const double* MM_RESTRICT re,
                       const double* MM_RESTRICT Ks, const double* MM_RESTRICT y,
                       const double* MM_RESTRICT ynew, double atol, double rtol,
                       double* MM_RESTRICT en)
{
    double acc[MM_LANES];
    for (int l = 0; l < MM_LANES; l++) acc[l] = 0.0;
    for (Py_ssize_t i = 0; i < N; i++) {
        double ev[MM_LANES];
        for (int l = 0; l < MM_LANES; l++) ev[l] = 0.0;
        for (Py_ssize_t j = 0; j < ns; j++) {
            if (re[j] == 0.0) continue;
            const double c = re[j];
            const double* kj = Ks + j * NL + i * MM_LANES;
            for (int l = 0; l < MM_LANES; l++) ev[l] = ev[l] + c * kj[l];
        }
        for (int l = 0; l < MM_LANES; l++) {
            double ay = fabs(y[i * MM_LANES + l]);
            double an = fabs(ynew[i * MM_LANES + l]);
            double sc = atol + rtol * ((an > ay || an != an) ? an : ay);
            double e = ev[l] / sc;
            acc[l] += e * e;
        }
    }
    for (int l = 0; l < MM_LANES; l++) en[l] = acc[l];
}

/* en[l] = sum_i (F_i / (atol + rtol |y_i|))^2 (the weighted size of f(y) per lane) */
MM_CLONES
static void mr_fnorm(Py_ssize_t N, const double* MM_RESTRICT F, const double* MM_RESTRICT y,
                     double atol, double rtol, double* MM_RESTRICT en)
{
    double acc[MM_LANES];
    for (int l = 0; l < MM_LANES; l++) acc[l] = 0.0;
    for (Py_ssize_t i = 0; i < N; i++) {
        for (int l = 0; l < MM_LANES; l++) {
            double e = F[i * MM_LANES + l] / (atol + rtol * fabs(y[i * MM_LANES + l]));
            acc[l] += e * e;
        }
    }
    for (int l = 0; l < MM_LANES; l++) en[l] = acc[l];
}

/* acc = y + sum_j coef[j] * K_j over j < s with coef[j] != 0, in j order, for the first n
   entries (n = m * L: the rule nodes; K_j at K + j * NL) */
MM_CLONES
static void mr_comb(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t s, const double* MM_RESTRICT coef,
                    const double* MM_RESTRICT y, const double* MM_RESTRICT K,
                    double* MM_RESTRICT acc)
{
    memcpy(acc, y, (size_t)n * sizeof(double));
    for (Py_ssize_t j = 0; j < s; j++) {
        if (coef[j] == 0.0) continue;
        const double c = coef[j];
        const double* kj = K + j * NL;
        for (Py_ssize_t i = 0; i < n; i++) acc[i] += c * kj[i];
    }
}

/* Stage right-hand side (mm_stage's arithmetic): acc = y + sum_j (hh * a[j]) * k_j over j < s
   with a[j] != 0, in j order, first n entries; K_j at k + j * NL (acc may be k + s * NL) */
MM_CLONES
static void mr_stage(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t s, const double* MM_RESTRICT a,
                     const double* MM_RESTRICT hh, const double* MM_RESTRICT y,
                     const double* k, double* acc)
{
    memcpy(acc, y, (size_t)n * sizeof(double));
    for (Py_ssize_t j = 0; j < s; j++) {
        if (a[j] == 0.0) continue;
        double c[MM_LANES];
        for (int l = 0; l < MM_LANES; l++) c[l] = hh[l] * a[j];
        const double* MM_RESTRICT kj = k + j * NL;
        double* MM_RESTRICT o = acc;
        for (Py_ssize_t i = 0; i < n; i += MM_LANES)
            for (int l = 0; l < MM_LANES; l++) o[i + l] += c[l] * kj[i + l];
    }
}

/* expdp5 (explicit Dormand-Prince 5(4) in Lawson form; _rosenbrock_ref._course_exp), on the
   first n = m * MM_LANES entries (the rule nodes). mx_prep: stage factors al[s] = exp(-lam c_s
   hh) and their inverses ial[s] (the exponentials once per lane while lam repeats from node to
   node: every node of the curated model has tau = 1), shift gs = N0 / lam (0 where lam = 0)
   and z = y - gs. */
MM_CLONES
static void mx_prep(Py_ssize_t m, Py_ssize_t NL, int ns, const double* MM_RESTRICT c,
                    const double* MM_RESTRICT lam, const double* MM_RESTRICT hh,
                    const double* MM_RESTRICT N0, const double* MM_RESTRICT y,
                    double* MM_RESTRICT al, double* MM_RESTRICT ial, double* MM_RESTRICT gs,
                    double* MM_RESTRICT z)
{
    double last[MM_LANES], ca[8][MM_LANES], ci[8][MM_LANES];
    for (int l = 0; l < MM_LANES; l++) last[l] = -1.0;
    for (Py_ssize_t i = 0; i < m; i++) {
        for (int l = 0; l < MM_LANES; l++) {
            const Py_ssize_t q = i * MM_LANES + l;
            const double lm = lam[q];
            if (lm == 0.0) {
                for (int s = 0; s < ns; s++) { al[s * NL + q] = 1.0; ial[s * NL + q] = 1.0; }
                gs[q] = 0.0;
            } else {
                if (lm != last[l]) {
                    last[l] = lm;
                    for (int s = 0; s < ns; s++) {
                        ca[s][l] = exp(-lm * c[s] * hh[l]);
                        ci[s][l] = 1.0 / ca[s][l];
                    }
                }
                for (int s = 0; s < ns; s++) { al[s * NL + q] = ca[s][l]; ial[s * NL + q] = ci[s][l]; }
                gs[q] = N0[q] / lm;
            }
            z[q] = y[q] - gs[q];
        }
    }
}
/* stage s: U = gs + al_s (z + hh sum_j a_j Rt_j) */
MM_CLONES
static void mx_stage(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t s, const double* MM_RESTRICT a,
                     const double* MM_RESTRICT hh, const double* MM_RESTRICT gs,
                     const double* MM_RESTRICT al_s, const double* MM_RESTRICT z,
                     const double* MM_RESTRICT Rt, double* MM_RESTRICT U)
{
    for (Py_ssize_t q = 0; q < n; q++) U[q] = 0.0;
    for (Py_ssize_t j = 0; j < s; j++) {
        if (a[j] == 0.0) continue;
        const double c = a[j];
        const double* MM_RESTRICT r = Rt + j * NL;
        for (Py_ssize_t q = 0; q < n; q++) U[q] += c * r[q];
    }
    for (Py_ssize_t i = 0; i < n; i += MM_LANES)
        for (int l = 0; l < MM_LANES; l++)
            U[i + l] = gs[i + l] + al_s[i + l] * (z[i + l] + hh[l] * U[i + l]);
}
/* after stage s's derivative D = F: N = D + lam U (kept in Nn when Nn != NULL: the last stage),
   Rt_s = (N - N0) ial_s */
MM_CLONES
static void mx_rt(Py_ssize_t n, const double* MM_RESTRICT F, const double* MM_RESTRICT lam,
                  const double* MM_RESTRICT U, const double* MM_RESTRICT N0,
                  const double* MM_RESTRICT ial_s, double* MM_RESTRICT Rt_s, double* Nn)
{
    if (Nn != NULL) {
        for (Py_ssize_t q = 0; q < n; q++) {
            const double e = F[q] + lam[q] * U[q];
            Nn[q] = e;
            Rt_s[q] = (e - N0[q]) * ial_s[q];
        }
    } else {
        for (Py_ssize_t q = 0; q < n; q++) Rt_s[q] = (F[q] + lam[q] * U[q] - N0[q]) * ial_s[q];
    }
}
/* error estimate er = hh al_last sum_j e_j Rt_j */
MM_CLONES
static void mx_err(Py_ssize_t n, Py_ssize_t NL, Py_ssize_t ns, const double* MM_RESTRICT e,
                   const double* MM_RESTRICT hh, const double* MM_RESTRICT al_last,
                   const double* MM_RESTRICT Rt, double* MM_RESTRICT er)
{
    for (Py_ssize_t q = 0; q < n; q++) er[q] = 0.0;
    for (Py_ssize_t j = 0; j < ns; j++) {
        if (e[j] == 0.0) continue;
        const double c = e[j];
        const double* MM_RESTRICT r = Rt + j * NL;
        for (Py_ssize_t q = 0; q < n; q++) er[q] += c * r[q];
    }
    for (Py_ssize_t i = 0; i < n; i += MM_LANES)
        for (int l = 0; l < MM_LANES; l++) er[i + l] = hh[l] * al_last[i + l] * er[i + l];
}

#endif /* MMMECH_ROSENBROCK_HELPERS_H */
