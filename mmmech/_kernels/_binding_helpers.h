/* C helpers of the occupancy kernels _occupancy.pyx (binding_step_mean: the fused
   binding-kinetics course; occupancy_step_mean_dt: step-averaged occupancies; NumPy
   references in _occupancy_ref.py). Elementwise loops the compiler vectorises (SIMD clones
   for AVX2 and AVX-512, picked at load time; no FMA contraction, so every clone gives the
   same bits). */
#ifndef MMMECH_BINDING_HELPERS_H
#define MMMECH_BINDING_HELPERS_H
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define MB_CLONES __attribute__((target_clones("default", "avx2", "avx512f"), optimize("fp-contract=off")))
#else
#define MB_CLONES
#endif
#if defined(_MSC_VER)
#define MB_RESTRICT __restrict
#else
#define MB_RESTRICT __restrict__
#endif
#define MB_DBL_MAX 0x1.fffffffffffffp+1023
#define MB_DBL_MIN 0x1p-1022

static inline double mb_asdouble(uint64_t u) { double d; memcpy(&d, &u, sizeof d); return d; }
static inline uint64_t mb_asuint(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

/* exp(-x) for x >= 0, to within a few units in the last place of the C library's: 0 from
   x = 708 on (below the smallest normal double, where the course's terms are 0 to the last bit
   anyway); otherwise -x = k ln 2 + r, |r| <= ln 2 / 2 (k by round-to-nearest, ln 2 split in
   two so k ln2_hi is exact), exp(r) by its Taylor polynomial of degree 13 (remainder < 4e-18
   relative) and 2^k from the exponent bits. */
static inline double mb_exp_neg(double x)
{
    double y = x < 708.0 ? -x : -708.0;
    double t = y * 0x1.71547652b82fep+0 + 0x1.8p52; /* y / ln 2 + 1.5 2^52: rounds to k */
    double k = t - 0x1.8p52;
    double r = (y - k * 0x1.62e42fee00000p-1) - k * 0x1.a39ef35793c76p-33;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = r + r * (r * p); /* exp(r) - 1 */
    /* k in [-1022, 0]: 2^k is a normal double; its bits are (k + 1023) << 52 */
    uint64_t kb = mb_asuint(t) - 0x4338000000000000ULL; /* k, two's complement */
    double sc = mb_asdouble((kb + 1023ULL) << 52);
    double e = sc + sc * p;
    return x < 708.0 ? e : 0.0;
}

/* u[t] = max(c[t] scale, 0) / K for t < n (the Hill slope's power, when not 1, is the
   caller's); returns how many c[t] scale are NaN or +inf. */
MB_CLONES
static Py_ssize_t mb_ratio(Py_ssize_t n, const double* MB_RESTRICT c, double scale, double K,
                           double* MB_RESTRICT u)
{
    Py_ssize_t bad = 0;
    for (Py_ssize_t t = 0; t < n; t++) {
        double v = c[t] * scale;
        bad += !(v <= MB_DBL_MAX);
        u[t] = (v < 0.0 ? 0.0 : v) / K;
    }
    return bad;
}

/* For each fine interval t < n, from u[t] = (c / K)^h (>= 0, finite or +inf):
   eq[t] = u / (1 + u)        the equilibrium occupancy,
   dec[t] = exp(-x)           x = k_off (1 + u) dt, the decay of theta - eq over the interval,
   w[t] = (1 - exp(-x)) / x   the weight of theta - eq in the interval mean, by its Taylor
                              series 1 - x/2 + x^2/6 - ... (11 terms, remainder < 1e-17) below
                              x = 1/16, where 1 - exp(-x) would cancel.
   u = +inf gives eq NaN, dec 0 and w 0, as the NumPy reference (inf / inf). */
MB_CLONES
static void mb_binding_terms(Py_ssize_t n, const double* MB_RESTRICT u, double k_off, double dt,
                             double* MB_RESTRICT eq, double* MB_RESTRICT dec,
                             double* MB_RESTRICT w)
{
    for (Py_ssize_t t = 0; t < n; t++) {
        double opu = 1.0 + u[t];
        double x = k_off * opu * dt;
        double e = mb_exp_neg(x);
        double s = -1.0 / 39916800.0;
        s = s * x + 1.0 / 3628800.0;
        s = s * x - 1.0 / 362880.0;
        s = s * x + 1.0 / 40320.0;
        s = s * x - 1.0 / 5040.0;
        s = s * x + 1.0 / 720.0;
        s = s * x - 1.0 / 120.0;
        s = s * x + 1.0 / 24.0;
        s = s * x - 1.0 / 6.0;
        s = s * x + 0.5;
        s = 1.0 - x * s;
        double big = (1.0 - e) / x;
        eq[t] = u[t] / opu;
        dec[t] = e;
        w[t] = x < 0.0625 ? s : big;
    }
}

/* The occupancy of Hill slope 1, computed as r / (1 + r) with r = c / K (the occupancy
   kernel's plain branch, the same bits), for t < n into o[t], 0 for c <= 0. Returns how many
   c[t] need the kernel's other branches or are bad (c not finite, c < 0, or c > 0 with c / K
   not a normal double); the caller then takes the scalar kernel for the run. */
MB_CLONES
static Py_ssize_t mb_occ_h1(Py_ssize_t n, const double* MB_RESTRICT c, double K,
                            double* MB_RESTRICT o)
{
    Py_ssize_t slow = 0;
    for (Py_ssize_t t = 0; t < n; t++) {
        double v = c[t];
        double r = v / K;
        int ok = (v >= 0.0) & (v <= MB_DBL_MAX);
        int normal = (r >= MB_DBL_MIN) & (r <= MB_DBL_MAX);
        slow += !ok | ((v > 0.0) & !normal);
        o[t] = v > 0.0 ? r / (1.0 + r) : 0.0;
    }
    return slow;
}
#endif
