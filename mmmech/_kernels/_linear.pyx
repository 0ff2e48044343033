# Linear signed propagation (random walk with restart / network diffusion), many regimens.
#
# Same arguments, semantics and results as the reference ``_linear_ref.py`` (read its module
# docstring for the iteration). Inputs are checked by mmmech.diffusion before anything here
# runs; the def function only checks that array shapes agree with each other.
#
# Layout: regimens go in blocks of BLK; a block's vectors are stored interleaved (node-major,
# ``x[v * BLK + b]``), so every edge of the CSR operator updates BLK regimens with one
# contiguous, vectorizable loop, and a block's working set (2 * N * BLK doubles plus the seeds)
# stays in cache while the operator streams past. ``prange`` hands blocks to threads; each
# thread owns its buffers; each regimen writes only its own output row. Per regimen the
# arithmetic is the same whatever the block, thread count or batching (edges are summed in
# CSR order, as scipy does), so results do not depend on them.
#
# Interruption: thread 0 (the calling Python thread) polls for signals every 50 ms of wall
# time between iterations; Ctrl-C stops every thread, frees the buffers and raises
# KeyboardInterrupt (shared helpers in _kernel_common.h).
from cython.parallel cimport parallel
from libc.math cimport fabs
from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t
from cpython.exc cimport PyErr_CheckSignals

import numpy as np

from ._typedefs cimport float64_t, int32_t, uint8_t

__all__ = ["diffuse", "BLOCK", "default_threads"]

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int mmmech_linear_default_threads(void) { return omp_get_max_threads(); }
    #else
    static int mmmech_linear_default_threads(void) { return 1; }
    #endif
    """
    int mmmech_linear_default_threads() noexcept nogil

cdef extern from "_kernel_common.h":
    Py_ssize_t mm_fetch_add(Py_ssize_t* p) noexcept nogil
    int mm_thread_num() noexcept nogil
    int mm_team_size() noexcept nogil
    double mm_now() noexcept nogil
    void mm_sleep_ms(int ms) noexcept nogil
    int mm_load_int(int* p) noexcept nogil
    void mm_store_int(int* p, int v) noexcept nogil
    void mm_add_int(int* p, int v) noexcept nogil

cdef enum:
    BLK = 16    # regimens per block

BLOCK = BLK


def default_threads():
    """Threads a ``num_threads=0`` call uses (OpenMP's default; 1 without OpenMP)."""
    return mmmech_linear_default_threads()


cdef struct Op:
    Py_ssize_t N
    Py_ssize_t R
    const int64_t* indptr
    const int32_t* indices
    const double* data
    const int32_t* dangling
    Py_ssize_t n_dangling
    const double* seeds     # (R, N)
    double restart
    double keep
    Py_ssize_t n_iter
    double tol
    int mode
    double* x_out           # (R, N)
    int64_t* iters_out
    uint8_t* conv_out
    double* delta_out
    # work distribution and interruption
    Py_ssize_t next         # next block to hand out (atomic)
    void* state             # a list: [exception or None] (borrowed)
    int stop                # set (atomic) when the run must end early
    int left                # threads other than thread 0 that finished (atomic)
    double next_poll        # wall time of thread 0's next poll


cdef double POLL_S = 0.05


cdef void _poll(Op* op) noexcept with gil:
    """Thread 0: run pending signal handlers; an exception (KeyboardInterrupt) stops all."""
    try:
        PyErr_CheckSignals()
    except BaseException as exc:
        (<list>op.state)[0] = exc
        mm_store_int(&op.stop, 1)


cdef inline int _check(Op* op) noexcept nogil:
    """Every thread, once per iteration of a block; returns 1 when the run must stop."""
    cdef double now
    if mm_thread_num() == 0:
        now = mm_now()
        if now >= op.next_poll:
            op.next_poll = now + POLL_S
            _poll(op)
    return mm_load_int(&op.stop)


cdef void _block(Op* op, Py_ssize_t blk, double* buf) noexcept nogil:
    """Iterate the regimens of block `blk` to convergence (or n_iter) and write them out."""
    cdef Py_ssize_t N = op.N, r0 = blk * BLK, nb = op.R - blk * BLK
    cdef Py_ssize_t v, b, e, u, k, j, e0, e1
    cdef double* xa = buf
    cdef double* xb = buf + N * BLK
    cdef double* s = buf + 2 * N * BLK
    cdef double* q = buf + 3 * N * BLK
    cdef double* tmp
    cdef double acc[BLK]
    cdef double dsum[BLK]
    cdef double diff[BLK]
    cdef double norm[BLK]
    cdef double w, nv, restart = op.restart, keep = op.keep
    cdef int active[BLK]
    cdef int n_active = 0
    if nb > BLK:
        nb = BLK
    for b in range(BLK):
        norm[b] = 0.0
        dsum[b] = 0.0
    for v in range(N):
        for b in range(BLK):
            s[v * BLK + b] = op.seeds[(r0 + b) * N + v] if b < nb else 0.0
            norm[b] += fabs(s[v * BLK + b])
    for b in range(BLK):
        active[b] = b < nb and norm[b] > 0.0
        n_active += active[b]
        if b < nb:
            op.iters_out[r0 + b] = 0
            op.conv_out[r0 + b] = not active[b]
            op.delta_out[r0 + b] = 0.0
    for v in range(N):
        for b in range(BLK):
            nv = s[v * BLK + b]
            xa[v * BLK + b] = nv
            q[v * BLK + b] = fabs(nv) / norm[b] if norm[b] > 0.0 else 0.0
    for k in range(op.n_iter):
        if n_active == 0:
            break
        if _check(op):
            return
        if op.mode == 1:
            for b in range(BLK):
                dsum[b] = 0.0
            for j in range(op.n_dangling):
                v = op.dangling[j]
                for b in range(BLK):
                    dsum[b] += xa[v * BLK + b]
        for b in range(BLK):
            diff[b] = 0.0
        for v in range(N):
            for b in range(BLK):
                acc[b] = 0.0
            e0 = op.indptr[v]
            e1 = op.indptr[v + 1]
            for e in range(e0, e1):
                u = op.indices[e]
                w = op.data[e]
                for b in range(BLK):
                    acc[b] += w * xa[u * BLK + b]
            if op.mode == 1:
                for b in range(BLK):
                    nv = restart * s[v * BLK + b] + keep * (acc[b] + dsum[b] * q[v * BLK + b])
                    diff[b] += fabs(nv - xa[v * BLK + b])
                    xb[v * BLK + b] = nv
            else:
                for b in range(BLK):
                    nv = restart * s[v * BLK + b] + keep * acc[b]
                    diff[b] += fabs(nv - xa[v * BLK + b])
                    xb[v * BLK + b] = nv
        tmp = xa
        xa = xb
        xb = tmp
        for b in range(nb):
            if not active[b]:
                continue
            op.iters_out[r0 + b] += 1
            op.delta_out[r0 + b] = diff[b]
            if diff[b] <= op.tol * norm[b]:
                # converged: this regimen's answer is final; its column keeps iterating
                # harmlessly with the others of the block but is never read again
                active[b] = 0
                n_active -= 1
                op.conv_out[r0 + b] = 1
                for v in range(N):
                    op.x_out[(r0 + b) * N + v] = xa[v * BLK + b]
    for b in range(nb):
        if active[b] or norm[b] == 0.0:
            for v in range(N):
                op.x_out[(r0 + b) * N + v] = xa[v * BLK + b]


def diffuse(const int64_t[::1] indptr, const int32_t[::1] indices, const float64_t[::1] data,
            const int32_t[::1] dangling, const float64_t[:, ::1] seeds, double restart,
            Py_ssize_t n_iter, double tol, int dangling_mode, int num_threads=0):
    """Propagate R seed vectors through the CSR operator (see ``_linear_ref.diffuse``).

    Returns ``x (R, N), iterations (R,) int64, converged (R,) bool, delta (R,)``.
    """
    cdef Py_ssize_t N = indptr.shape[0] - 1, R = seeds.shape[0], nblk, blk
    cdef Op op
    cdef double* buf
    cdef int others
    if N < 1 or R < 1 or seeds.shape[1] != N:
        raise ValueError(f"_linear kernel: seeds must have shape (R>=1, {N}), got "
                         f"({seeds.shape[0]}, {seeds.shape[1]})")
    if indices.shape[0] != data.shape[0] or indptr[0] != 0 or indptr[N] != indices.shape[0]:
        raise ValueError("_linear kernel: indptr, indices and data do not form a CSR matrix")
    if dangling_mode not in (0, 1) or n_iter < 0:
        raise ValueError("_linear kernel: dangling_mode must be 0 or 1 and n_iter >= 0")
    if <size_t>N > (<size_t>-1) / (4 * BLK * sizeof(double)) // 2:
        raise MemoryError(f"_linear kernel: per-thread buffers for {N} nodes overflow the "
                          f"address space")
    x = np.zeros((R, N), dtype=np.float64)
    iters = np.zeros(R, dtype=np.int64)
    conv = np.zeros(R, dtype=np.uint8)
    delta = np.zeros(R, dtype=np.float64)
    failed = np.zeros((R + BLK - 1) // BLK, dtype=np.uint8)
    cdef float64_t[:, ::1] x_v = x
    cdef int64_t[::1] it_v = iters
    cdef uint8_t[::1] conv_v = conv
    cdef float64_t[::1] delta_v = delta
    cdef uint8_t[::1] failed_v = failed
    op.N = N
    op.R = R
    op.indptr = &indptr[0]
    op.indices = &indices[0] if indices.shape[0] else NULL
    op.data = &data[0] if data.shape[0] else NULL
    op.dangling = &dangling[0] if dangling.shape[0] else NULL
    op.n_dangling = dangling.shape[0]
    op.seeds = &seeds[0, 0]
    op.restart = restart
    op.keep = 1.0 - restart
    op.n_iter = n_iter
    op.tol = tol
    op.mode = dangling_mode
    op.x_out = &x_v[0, 0]
    op.iters_out = &it_v[0]
    op.conv_out = &conv_v[0]
    op.delta_out = &delta_v[0]
    nblk = (R + BLK - 1) // BLK
    cdef int nt = num_threads if num_threads > 0 else mmmech_linear_default_threads()
    if nt < 1:
        nt = 1
    if nt > nblk:
        nt = <int>nblk
    state = [None]
    op.state = <void*>state
    op.next = 0
    op.stop = 0
    op.left = 0
    op.next_poll = mm_now() + POLL_S
    with nogil, parallel(num_threads=nt):
        buf = <double*>malloc(4 * N * BLK * sizeof(double))
        while not mm_load_int(&op.stop):
            blk = mm_fetch_add(&op.next)
            if blk >= nblk:
                break
            if buf != NULL:
                _block(&op, blk, buf)
            else:
                failed_v[blk] = 1
        free(buf)
        if mm_thread_num() == 0:
            # keep polling while the other threads finish their blocks
            others = mm_team_size() - 1
            while mm_load_int(&op.left) < others and not mm_load_int(&op.stop):
                mm_sleep_ms(10)
                op.next_poll = 0.0
                _check(&op)
        else:
            mm_add_int(&op.left, 1)
    op.state = NULL
    if state[0] is not None:
        raise state[0]
    if failed.any():
        raise MemoryError("_linear kernel: could not allocate the per-thread buffers")
    return x, iters, conv.astype(bool), delta
