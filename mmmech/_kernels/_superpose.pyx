# Dose superposition on a uniform grid: out[q_d + t] += a_d * unit[r_d, t] for every dose d in
# order (the single-dose course of its route shifted to its grid offset and scaled by its
# amount), exactly as the NumPy reference _superpose_ref.py (read it first): one product and
# one sum per element, in dose order, so the same bits as ``out[q:] += a * unit[:T - q]``.
# Directives are set once in setup.py.
from ._typedefs cimport float64_t

from libc.stdint cimport int64_t


def shift_add(float64_t[::1] out, const float64_t[:, ::1] units, const int64_t[::1] route,
              const int64_t[::1] shift, const float64_t[::1] amount):
    """out[shift[d]:] += amount[d] * units[route[d], :T - shift[d]] for d in order (in place;
    doses with shift >= T add nothing)."""
    cdef Py_ssize_t T = out.shape[0], n = shift.shape[0], d, t, q, r
    cdef double a, p
    if units.shape[1] < T:
        raise ValueError("shift_add(): units must have at least len(out) columns")
    for d in range(n):
        if route[d] < 0 or route[d] >= units.shape[0] or shift[d] < 0:
            raise ValueError("shift_add(): route or shift out of range")
    with nogil:
        for d in range(n):
            q = shift[d]
            if q >= T:
                continue
            r = route[d]
            a = amount[d]
            for t in range(T - q):
                p = a * units[r, t]
                out[q + t] = out[q + t] + p
