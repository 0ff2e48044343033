"""NumPy / scipy.sparse reference of the linear signed propagation kernel (``_linear.pyx``).

Same arguments and results as the Cython kernel; inputs are assumed checked by
:mod:`mmmech.simulation.diffusion`. All regimens advance together as the columns of one dense (N, R)
block, so every iteration is one sparse-times-dense product (scipy's ``csr_matvecs``).

The operator ``M`` (CSR, row = target node, column = source node) is the transpose of the
signed row-normalized adjacency: ``M[v, u] = W[u, v] / sum_v' |W[u, v']|``. One iteration for a
regimen with seed vector ``s`` (N,) is::

    x <- restart * s + (1 - restart) * (M @ x + d(x) * q)

with ``d(x) = sum of x over dangling nodes`` (nodes without out-edges) and
``q = |s| / ||s||_1`` when ``dangling_mode == 1`` (what reaches a sink jumps, with its sign, to
the seed nodes in proportion to their weight, as in PageRank), or ``d = 0`` when
``dangling_mode == 0`` (it leaves the network). Start: ``x = s``. A regimen stops after
the iteration where ``||x_new - x||_1 <= tol * ||s||_1`` (never when ``tol == 0``), or after
``n_iter`` iterations; a zero seed vector gives zeros after 0 iterations.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["diffuse"]


def diffuse(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    dangling: NDArray[np.int32],
    seeds: NDArray[np.float64],
    restart: float,
    n_iter: int,
    tol: float,
    dangling_mode: int,
    num_threads: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64]]:
    """Propagate R seed vectors; see the module docstring.

    Parameters
    ----------
    indptr : ndarray (N + 1,) int64
    indices : ndarray (nnz,) int32
    data : ndarray (nnz,) float64
        The operator M in CSR form (row = target).
    dangling : ndarray (n_dangling,) int32
        Indices of nodes without out-edges.
    seeds : ndarray (R, N) float64
    restart : float in (0, 1]
    n_iter : int >= 1
    tol : float >= 0
    dangling_mode : {0, 1}
        0: mass reaching a dangling node leaves; 1: it restarts from the seeds.
    num_threads : int
        Ignored (the reference is serial); kept for the same signature.

    Returns
    -------
    x : ndarray (R, N)
    iterations : ndarray (R,) int64
    converged : ndarray (R,) bool
    delta : ndarray (R,)
        The last ``||x_new - x||_1``.
    """
    N = indptr.shape[0] - 1
    M = sp.csr_array((data, indices, indptr), shape=(N, N))
    S = np.ascontiguousarray(seeds.T)  # (N, R)
    R = S.shape[1]
    norm = np.abs(S).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        Q = np.where(norm > 0, np.abs(S) / np.where(norm > 0, norm, 1.0), 0.0)
    X = S.copy()
    active = norm > 0
    iterations = np.zeros(R, dtype=np.int64)
    converged = ~active
    delta = np.zeros(R)
    keep = 1.0 - restart
    for _ in range(int(n_iter)):
        if not active.any():
            break
        cols = slice(None) if active.all() else np.nonzero(active)[0]
        Xa = X[:, cols]
        Y = M @ Xa
        if dangling_mode == 1 and dangling.size:
            Y = Y + Xa[dangling].sum(axis=0) * Q[:, cols]
        Y = restart * S[:, cols] + keep * Y
        dl = np.abs(Y - Xa).sum(axis=0)
        X[:, cols] = Y
        iterations[cols] += 1
        delta[cols] = dl
        done = dl <= tol * norm[cols]
        converged[cols] = done
        idx = np.arange(R)[cols]
        active[idx[done]] = False
    return np.ascontiguousarray(X.T), iterations, converged, delta
