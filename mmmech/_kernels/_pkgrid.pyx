# Linear PK courses of many patients on a uniform grid by modal recursion, exactly as the NumPy
# reference _pkgrid_ref.py (read it first; it differs only where libm's exp and NumPy's exp
# round differently, about one ulp). A linear mammillary model's course is a sum of exponential
# modes; on a grid of step dt with every dose at a grid offset, mode m of patient p contributes
#
#     out[p, k] += coef[p, m] * sum_{d: shift[d] <= k} amount[p, d] * exp(-x[p, m] (k - shift[d]))
#
# with x = rate * dt. Per row and mode the sum is carried block by block: a table
# tab[j] = exp(-x j), j = 0..B, is evaluated once; in a block [k0, k0 + B) the carry (the doses
# before k0 propagated to k0) adds coef * carry * tab[k - k0], every dose in the block adds
# coef * amount * tab[k - shift]; the carry moves to the next block as carry * tab[B] plus the
# block's doses * tab[k0 + B - shift]. O(modes x grid + modes x doses x B) per row instead of the
# O(doses x grid) of shift-and-add, and the rounding is bounded by the number of blocks (a few
# hundred ulp at most, relative to each mode's sum), not the number of grid points.
# Directives are set once in setup.py.
from cython.parallel cimport parallel, prange
from libc.math cimport exp, expm1, isfinite
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from ._typedefs cimport float64_t


def modal_courses(float64_t[:, ::1] out, const float64_t[:, ::1] coef,
                  const float64_t[:, ::1] x, const int64_t[::1] shift,
                  const float64_t[:, ::1] amount, Py_ssize_t block, int num_threads=1):
    """out[p, k] += sum_m coef[p, m] sum_{d: shift[d] <= k} amount[p, d] exp(-x[p, m] (k -
    shift[d])) for every row p (in place; rows in parallel over `num_threads` OpenMP threads).
    `shift` must be sorted (non-decreasing, >= 0); doses at shift >= T add nothing. Per row,
    block by block, every mode in order (the block's part of the row stays in cache)."""
    cdef Py_ssize_t P = out.shape[0], T = out.shape[1], M = coef.shape[1], n = shift.shape[0]
    cdef Py_ssize_t p, m, d, j, k, k0, k1, q, d0, d1, B1 = block + 1
    cdef double ca
    cdef double *buf
    if coef.shape[0] != P or x.shape[0] != P or x.shape[1] != M:
        raise ValueError("modal_courses(): coef and x must both be (rows, modes)")
    if amount.shape[0] != P or amount.shape[1] != n:
        raise ValueError("modal_courses(): amount must be (rows, doses)")
    if block < 1:
        raise ValueError("modal_courses(): block must be >= 1")
    if num_threads < 1:
        num_threads = 1
    for d in range(n):
        if shift[d] < 0 or (d > 0 and shift[d] < shift[d - 1]):
            raise ValueError("modal_courses(): shifts must be >= 0 and sorted")
    for p in range(P):
        for m in range(M):
            if not (isfinite(x[p, m]) and x[p, m] >= 0 and isfinite(coef[p, m])):
                raise ValueError("modal_courses(): x must be finite >= 0, coef finite")
    with nogil, parallel(num_threads=num_threads):
        # per thread: the table exp(-x j), j = 0..block, of every mode, then the carries
        buf = <double *> malloc((M * B1 + M) * sizeof(double))
        if buf != NULL:
            for p in prange(P, schedule="static"):
                for m in range(M):
                    for j in range(B1):
                        buf[m * B1 + j] = exp(-(x[p, m] * j))
                    buf[M * B1 + m] = 0.0
                d0 = 0
                k0 = 0
                while k0 < T:
                    k1 = k0 + block
                    if k1 > T:
                        k1 = T
                    d1 = d0
                    while d1 < n and shift[d1] < k1:
                        d1 = d1 + 1
                    for m in range(M):
                        ca = coef[p, m] * buf[M * B1 + m]
                        if ca != 0.0:
                            for k in range(k0, k1):
                                out[p, k] = out[p, k] + ca * buf[m * B1 + k - k0]
                        for d in range(d0, d1):
                            q = shift[d]
                            ca = coef[p, m] * amount[p, d]
                            for k in range(q, k1):
                                out[p, k] = out[p, k] + ca * buf[m * B1 + k - q]
                        ca = buf[M * B1 + m] * buf[m * B1 + block]
                        for d in range(d0, d1):
                            ca = ca + amount[p, d] * buf[m * B1 + k0 + block - shift[d]]
                        buf[M * B1 + m] = ca
                    d0 = d1
                    k0 = k0 + block
            free(buf)
    return None


cdef inline double _phi(double x) noexcept nogil:
    # (1 - exp(-x)) / x with its limit 1 at 0 (x >= 0), as pk.engine._phi
    if x > 1e-12:
        return -expm1(-x) / x
    return 1.0


cdef inline double _gamma(double lam, double ka, double s) noexcept nogil:
    # (exp(-lam s) - exp(-ka s)) / (ka - lam) for s >= 0, cancellation-free (pk.engine's form)
    cdef double lo = lam if lam < ka else ka
    cdef double hi = ka if lam < ka else lam
    return exp(-lo * s) * s * _phi((hi - lo) * s)


def absorbed_courses(float64_t[:, ::1] out, const float64_t[:, ::1] lam,
                     const float64_t[::1] ka, const float64_t[:, ::1] wg,
                     const float64_t[:, ::1] we, const int64_t[::1] shift,
                     const float64_t[:, ::1] amount, double h, double c, Py_ssize_t block,
                     int num_threads=1):
    """First-order absorbed doses on a grid, every row p and disposition mode i (in place):
    out[p, k] += wg[p, i] G_i(k) + we[p, i] E(k), with, over the doses d with shift[d] <= k and
    s = (k - shift[d]) h + c, E(k) = sum_d amount[p, d] exp(-ka[p] s) and G_i(k) = sum_d
    amount[p, d] (exp(-lam[p, i] s) - exp(-ka[p] s)) / (ka[p] - lam[p, i]) (its
    cancellation-free form). Carried block by block as the pair (E, G_i):
    E(k + j) = exp(-ka j h) E(k), G_i(k + j) = exp(-lam_i j h) G_i(k) + Gamma_i(j h) E(k); every
    term is >= 0, so nothing cancels however close ka and lam_i are. Per row, block by block,
    every mode in order."""
    cdef Py_ssize_t P = out.shape[0], T = out.shape[1], M = lam.shape[1], n = shift.shape[0]
    cdef Py_ssize_t p, i, d, j, k, k0, k1, q, d0, d1, B1 = block + 1, o
    cdef double l, a, gc, ec, g2, e2, x, y, z
    cdef double *buf
    if lam.shape[0] != P or ka.shape[0] != P or wg.shape[0] != P or we.shape[0] != P:
        raise ValueError("absorbed_courses(): lam, ka, wg and we need one row per output row")
    if wg.shape[1] != M or we.shape[1] != M:
        raise ValueError("absorbed_courses(): wg and we must be (rows, modes) as lam")
    if amount.shape[0] != P or amount.shape[1] != n:
        raise ValueError("absorbed_courses(): amount must be (rows, doses)")
    if block < 1 or not (isfinite(h) and h > 0 and isfinite(c) and c >= 0):
        raise ValueError("absorbed_courses(): block must be >= 1, h > 0 and c >= 0")
    if num_threads < 1:
        num_threads = 1
    for d in range(n):
        if shift[d] < 0 or (d > 0 and shift[d] < shift[d - 1]):
            raise ValueError("absorbed_courses(): shifts must be >= 0 and sorted")
    for p in range(P):
        if not (isfinite(ka[p]) and ka[p] > 0):
            raise ValueError("absorbed_courses(): ka must be finite > 0")
        for i in range(M):
            if not (isfinite(lam[p, i]) and lam[p, i] > 0 and isfinite(wg[p, i])
                    and isfinite(we[p, i])):
                raise ValueError("absorbed_courses(): lam must be finite > 0, weights finite")
    with nogil, parallel(num_threads=num_threads):
        # per thread and mode i, at o = 5 i (block + 1): tables pr, pg, pe (the carry:
        # exp(-lam j h), Gamma(j h), exp(-ka j h)) and tg, te (a dose j steps back:
        # Gamma(j h + c), exp(-ka (j h + c))), j = 0..block; then the carries G_i, E per mode
        buf = <double *> malloc((5 * M * B1 + 2 * M) * sizeof(double))
        if buf != NULL:
            for p in prange(P, schedule="static"):
                a = ka[p]
                for i in range(M):
                    l = lam[p, i]
                    o = 5 * i * B1
                    for j in range(B1):
                        buf[o + j] = exp(-(l * (j * h)))
                        buf[o + B1 + j] = _gamma(l, a, j * h)
                        buf[o + 2 * B1 + j] = exp(-(a * (j * h)))
                        buf[o + 3 * B1 + j] = _gamma(l, a, j * h + c)
                        buf[o + 4 * B1 + j] = exp(-(a * (j * h + c)))
                    buf[5 * M * B1 + 2 * i] = 0.0
                    buf[5 * M * B1 + 2 * i + 1] = 0.0
                d0 = 0
                k0 = 0
                while k0 < T:
                    k1 = k0 + block
                    if k1 > T:
                        k1 = T
                    d1 = d0
                    while d1 < n and shift[d1] < k1:
                        d1 = d1 + 1
                    for i in range(M):
                        o = 5 * i * B1
                        gc = buf[5 * M * B1 + 2 * i]
                        ec = buf[5 * M * B1 + 2 * i + 1]
                        if gc != 0.0 or ec != 0.0:
                            x = wg[p, i] * gc
                            y = wg[p, i] * ec
                            z = we[p, i] * ec
                            for k in range(k0, k1):
                                j = k - k0
                                out[p, k] = out[p, k] + (x * buf[o + j] + y * buf[o + B1 + j]
                                                         + z * buf[o + 2 * B1 + j])
                        for d in range(d0, d1):
                            q = shift[d]
                            x = wg[p, i] * amount[p, d]
                            z = we[p, i] * amount[p, d]
                            for k in range(q, k1):
                                j = k - q
                                out[p, k] = out[p, k] + (x * buf[o + 3 * B1 + j]
                                                         + z * buf[o + 4 * B1 + j])
                        g2 = buf[o + block] * gc + buf[o + B1 + block] * ec
                        e2 = buf[o + 2 * B1 + block] * ec
                        for d in range(d0, d1):
                            j = k0 + block - shift[d]
                            g2 = g2 + amount[p, d] * buf[o + 3 * B1 + j]
                            e2 = e2 + amount[p, d] * buf[o + 4 * B1 + j]
                        buf[5 * M * B1 + 2 * i] = g2
                        buf[5 * M * B1 + 2 * i + 1] = e2
                    d0 = d1
                    k0 = k0 + block
            free(buf)
    return None
