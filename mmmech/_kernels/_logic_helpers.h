/* C helpers of the logic-ODE kernel _logic.pyx (included by the generated _logic.c, after
   Python.h, so Py_ssize_t is defined). Behaviour is documented beside the declarations in
   _logic.pyx; keep the two in step. */
#ifndef MMMECH_LOGIC_HELPERS_H
#define MMMECH_LOGIC_HELPERS_H

/* ---- threads, aligned buffers (interruption, progress, atomics: _kernel_common.h) ---- */
#include "_kernel_common.h"
#ifdef _OPENMP
#include <omp.h>
static int mmmech_logic_default_threads(void) { return omp_get_max_threads(); }
#else
static int mmmech_logic_default_threads(void) { return 1; }
#endif
#ifndef MMMECH_HAVE_OPENMP
#define MMMECH_HAVE_OPENMP 0
#endif
#include <stdlib.h>
#if defined(_MSC_VER)
#include <intrin.h>
#include <malloc.h>
static void* mm_aligned_alloc(size_t n) { return _aligned_malloc(n ? n : 64, 64); }
static void mm_aligned_free(void* p) { _aligned_free(p); }
#else
static void* mm_aligned_alloc(size_t n) {
    void* p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
    return p;
}
static void mm_aligned_free(void* p) { free(p); }
#endif
/* ---- the lane loops: x**n as exp(n log x) from tables, gather, rule programs, stages,
   error norm (see the comment above the second extern block in _logic.pyx) ---- */
#include <stdint.h>
#include <string.h>
#include <stddef.h>
#define MM_LANES 16
#if defined(_MSC_VER)
#define MM_RESTRICT __restrict
#else
#define MM_RESTRICT __restrict__
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define MM_CLONES __attribute__((target_clones("default", "avx2", "avx512f"), optimize("fp-contract=off")))
#else
#define MM_CLONES
#endif

static inline double mm_asdouble(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
static inline uint64_t mm_asuint(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

/* tables filled once at import (mm_set_tables): for j = 0..127, c_j = 1 + (j + 1/2) / 128,
   mm_invc[j] = 1 / c_j rounded, mm_logc[j] = -log(mm_invc[j]); for j = 0..63,
   mm_exp2[j] = 2^(j / 64) */
static double mm_invc[128], mm_logc[128], mm_exp2[64];

static void mm_set_tables(const double* invc, const double* logc, const double* exp2t) {
    memcpy(mm_invc, invc, sizeof mm_invc);
    memcpy(mm_logc, logc, sizeof mm_logc);
    memcpy(mm_exp2, exp2t, sizeof mm_exp2);
}

#define MM_LN2_HI 0x1.62e42fee00000p-1
#define MM_LN2_LO 0x1.a39ef35793c76p-33
#define MM_64_INV_LN2 0x1.71547652b82fep+6

/* x^n for x >= 0 (0 for x <= 0 or an underflowing result): log and exp from the shared
   tables (mm_set_tables), the arithmetic of mm_hill and of the Rosenbrock kernel's x^n. */
static inline double mm_pow_pos(double xv, double n)
{
    int tiny = xv < 0x1p-1000;
    uint64_t bits = mm_asuint(tiny ? xv * 0x1p200 : xv);
    double e = (mm_asdouble((bits >> 52) | 0x4330000000000000ULL) - 0x1p52) - 1023.0;
    e = tiny ? e - 200.0 : e;
    uint64_t j = (bits >> 45) & 127;
    double mant = mm_asdouble((bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL);
    double r = mant * mm_invc[j] - 1.0;
    double p = -1.0 / 6.0;
    p = p * r + 1.0 / 5.0;
    p = p * r - 0.25;
    p = p * r + 1.0 / 3.0;
    p = p * r - 0.5;
    double lnx = e * MM_LN2_HI + (e * MM_LN2_LO + (mm_logc[j] + (r + r * (r * p))));
    double y = n * lnx;
    double t = y * MM_64_INV_LN2 + 0x1.8p52;
    double k = t - 0x1.8p52;
    double s = (y - k * (MM_LN2_HI / 64.0)) - k * (MM_LN2_LO / 64.0);
    double ex = 1.0 / 120.0;
    ex = ex * s + 1.0 / 24.0;
    ex = ex * s + 1.0 / 6.0;
    ex = ex * s + 0.5;
    ex = s + s * (s * ex);
    int64_t kb = (int64_t)(mm_asuint(t) - 0x4338000000000000ULL);
    uint64_t scale = mm_asuint(mm_exp2[kb & 63]) + ((uint64_t)(kb >> 6) << 52);
    double sc = mm_asdouble(scale);
    double xn = sc + sc * ex;
    return (y < -708.0 || xv <= 0.0) ? 0.0 : xn;
}

MM_CLONES
static void mm_hill(Py_ssize_t m, const double* MM_RESTRICT x, const double* MM_RESTRICT n,
                    const double* MM_RESTRICT B, const double* MM_RESTRICT Kn,
                    const double* MM_RESTRICT w, const double* MM_RESTRICT lin,
                    double* MM_RESTRICT out)
{
    for (Py_ssize_t q = 0; q < m; q++) {
        double xv = x[q];
        double xn = mm_pow_pos(xv, n[q]);
        double h = lin[q] != 0.0 ? xv : B[q] * xn / (Kn[q] + xn);
        h = xv != xv ? xv : h;
        out[q] = w[q] * h;
    }
}

/* px[q * L + l] = clip(X[src[q] * L + l], 0, 1): the moving edges' source activities */
MM_CLONES
static inline void mm_gather_clip(Py_ssize_t m, const int32_t* MM_RESTRICT src,
                           const double* MM_RESTRICT X, double* MM_RESTRICT px)
{
    for (Py_ssize_t q = 0; q < m; q++) {
        const double* xs = X + (Py_ssize_t)src[q] * MM_LANES;
        double* o = px + q * MM_LANES;
        for (int l = 0; l < MM_LANES; l++) {
            double v = xs[l];
            o[l] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
        }
    }
}

/* The rule programs of every node with a rule, all lanes at once, then
   D = ((ymax * F - X) * free) / tau (free is 1.0 or 0.0; the numerator is finite). */
MM_CLONES
static inline void mm_rules(Py_ssize_t n_rule, const int32_t* MM_RESTRICT rule_nodes,
                     const int64_t* MM_RESTRICT prog_ptr, const int32_t* MM_RESTRICT prog_op,
                     const int32_t* MM_RESTRICT prog_slot, const double* MM_RESTRICT ph,
                     const double* MM_RESTRICT X, const double* MM_RESTRICT ymax,
                     const double* MM_RESTRICT tau, const double* MM_RESTRICT fr,
                     double* MM_RESTRICT st, double* MM_RESTRICT D)
{
    for (Py_ssize_t j = 0; j < n_rule; j++) {
        Py_ssize_t i = rule_nodes[j];
        double* top = st;
        for (int64_t a = prog_ptr[i]; a < prog_ptr[i + 1]; a++) {
            int op = prog_op[a];
            if (op == 0) {            /* OP_LIT */
                const double* lit = ph + (Py_ssize_t)prog_slot[a] * MM_LANES;
                for (int l = 0; l < MM_LANES; l++) top[l] = lit[l];
                top += MM_LANES;
            } else if (op == 4) {     /* OP_CONST */
                double v = (double)prog_slot[a];
                for (int l = 0; l < MM_LANES; l++) top[l] = v;
                top += MM_LANES;
            } else if (op == 1) {     /* OP_NOT */
                double* t = top - MM_LANES;
                for (int l = 0; l < MM_LANES; l++) t[l] = 1.0 - t[l];
            } else if (op == 2) {     /* OP_AND */
                top -= MM_LANES;
                double* b = top - MM_LANES;
                for (int l = 0; l < MM_LANES; l++) b[l] = b[l] * top[l];
            } else {                  /* OP_OR */
                top -= MM_LANES;
                double* b = top - MM_LANES;
                for (int l = 0; l < MM_LANES; l++) b[l] = 1.0 - (1.0 - b[l]) * (1.0 - top[l]);
            }
        }
        const Py_ssize_t base = i * MM_LANES;
        for (int l = 0; l < MM_LANES; l++)
            D[base + l] = ((ymax[base + l] * st[l] - X[base + l]) * fr[base + l]) / tau[base + l];
    }
}

/* Stage input: acc = y + sum_j (hh * a[j]) * k_j over j < s with a[j] != 0, in j order. */
MM_CLONES
static inline void mm_stage(Py_ssize_t NL, Py_ssize_t s, const double* MM_RESTRICT a,
                     const double* MM_RESTRICT hh, const double* MM_RESTRICT y,
                     const double* MM_RESTRICT k, double* MM_RESTRICT acc)
{
    memcpy(acc, y, (size_t)NL * sizeof(double));
    for (Py_ssize_t j = 0; j < s; j++) {
        if (a[j] == 0.0) continue;
        double c[MM_LANES];
        for (int l = 0; l < MM_LANES; l++) c[l] = hh[l] * a[j];
        const double* kj = k + j * NL;
        for (Py_ssize_t i = 0; i < NL; i += MM_LANES)
            for (int l = 0; l < MM_LANES; l++) acc[i + l] += c[l] * kj[i + l];
    }
}

/* Candidate state and error norm terms (reference _dp_step / _err_norm): with the nonzero
   weights w = (b0, b2, b3, b4, b5, e0, e2, e3, e4, e5, e6), in the reference's order,
   ynew = y + hh * sum b k and tot[l] = sum_i (hh * sum e k / scale)^2. */
MM_CLONES
static inline void mm_error(Py_ssize_t N, const double* MM_RESTRICT w, const double* MM_RESTRICT hh,
                     double atol, double rtol, const double* MM_RESTRICT y,
                     const double* MM_RESTRICT k, double* MM_RESTRICT ynew,
                     double* MM_RESTRICT tot)
{
    const Py_ssize_t NL = N * MM_LANES;
    const double *k0 = k, *k2 = k + 2 * NL, *k3 = k + 3 * NL, *k4 = k + 4 * NL;
    const double *k5 = k + 5 * NL, *k6 = k + 6 * NL;
    double acc[MM_LANES];
    for (int l = 0; l < MM_LANES; l++) acc[l] = 0.0;
    for (Py_ssize_t i = 0; i < NL; i += MM_LANES) {
        for (int l = 0; l < MM_LANES; l++) {
            Py_ssize_t x = i + l;
            double sb = 0.0 + w[0] * k0[x];
            sb = sb + w[1] * k2[x];
            sb = sb + w[2] * k3[x];
            sb = sb + w[3] * k4[x];
            sb = sb + w[4] * k5[x];
            double se = 0.0 + w[5] * k0[x];
            se = se + w[6] * k2[x];
            se = se + w[7] * k3[x];
            se = se + w[8] * k4[x];
            se = se + w[9] * k5[x];
            se = se + w[10] * k6[x];
            double yn = y[x] + hh[l] * sb;
            ynew[x] = yn;
            double ay = y[x] < 0.0 ? -y[x] : y[x];
            double an = yn < 0.0 ? -yn : yn;
            double m = (an > ay || an != an) ? an : ay;
            double ev = (hh[l] * se) / (atol + rtol * m);
            acc[l] += ev * ev;
        }
    }
    for (int l = 0; l < MM_LANES; l++) tot[l] = acc[l];
}


#endif /* MMMECH_LOGIC_HELPERS_H */
