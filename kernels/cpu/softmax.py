"""Row-wise numerically stable softmax."""
import numba
import numpy as np
from numba import njit, prange

from ._threads import chunk_bounds, use_threads


@njit(cache=True)
def softmax_rows_range(out, x, lo, hi):
    """out[i] = softmax(x[i]) for rows lo <= i < hi.

    out, x: (N, C), same float dtype; out may be x (each row is read before
    it is written).  The row maximum is subtracted before exp, so no finite
    input overflows; a NaN anywhere in a row makes the whole row NaN.
    """
    C = x.shape[1]
    for i in range(lo, hi):
        m = x[i, 0]
        for c in range(1, C):
            if x[i, c] > m:
                m = x[i, c]
        z = 0.0
        for c in range(C):
            e = np.exp(x[i, c] - m)
            out[i, c] = e
            z += e
        for c in range(C):
            out[i, c] = out[i, c] / z


@njit(cache=True, parallel=True)
def softmax_rows_parallel(out, x, n_chunks):
    """softmax_rows split into n_chunks chunks of rows, run on numba's threads."""
    for k in prange(n_chunks):
        lo, hi = chunk_bounds(x.shape[0], n_chunks, k)
        softmax_rows_range(out, x, lo, hi)


def softmax_rows(out, x):
    """out = softmax(x) row by row.  out, x: (N, C); threads for large N*C."""
    if use_threads(x.size):
        softmax_rows_parallel(out, x, numba.get_num_threads())
    else:
        softmax_rows_range(out, x, 0, x.shape[0])
