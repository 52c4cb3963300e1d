"""Row-wise numerically stable softmax."""
import numba
import numpy as np
from numba import njit, prange

from .._contracts import check_c_contiguous, check_floats, check_softmax_rows
from ._threads import chunk_bounds, use_threads
from .fast_math import fast_exp


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def exp_shifted_rows(out, x, lo, hi):
    """out[i] = exp(x[i] - max(x[i])) for rows lo <= i < hi.

    out, x: (N, C), same float dtype, C-contiguous; out may be x (each row is
    read before it is written).  Two steps over the rows: the maxima (x - max
    goes to out), then exp of the whole block as one flat loop that
    vectorizes (fast_exp).  A NaN in a row makes that row NaN.
    """
    C = x.shape[1]
    for i in range(lo, hi):
        m = x[i, 0]
        for c in range(1, C):
            m = x[i, c] if x[i, c] > m else m
        for c in range(C):
            out[i, c] = x[i, c] - m
    flat = out.reshape(out.size)
    # Unsigned indices: no negative-index wraparound, so the loop vectorizes.
    base = np.uint64(lo * C)
    for k in range(np.uint64((hi - lo) * C)):
        flat[base + k] = fast_exp(flat[base + k])


@njit(cache=True, error_model="numpy")
def softmax_rows_range(out, x, lo, hi):
    """out[i] = softmax(x[i]) for rows lo <= i < hi.  out, x: (N, C) as in exp_shifted_rows."""
    exp_shifted_rows(out, x, lo, hi)
    C = x.shape[1]
    for i in range(lo, hi):
        z = out[i, 0]
        for c in range(1, C):
            z += out[i, c]
        for c in range(C):
            out[i, c] = out[i, c] / z


@njit(cache=True, parallel=True)
def softmax_rows_parallel(out, x, n_chunks):
    """softmax_rows split into n_chunks chunks of rows, run on numba's threads."""
    for k in prange(n_chunks):
        lo, hi = chunk_bounds(x.shape[0], n_chunks, k)
        softmax_rows_range(out, x, lo, hi)


def softmax_rows(out, x):
    """out = softmax(x) row by row.  out, x: (N, C), C-contiguous; threads for large N*C."""
    check_floats("softmax_rows", "out and x", out, x)
    check_c_contiguous("softmax_rows", "out and x", out, x)
    check_softmax_rows.py_func(out.shape, x.shape)
    if use_threads(x.size):
        softmax_rows_parallel(out, x, 4 * numba.get_num_threads())
    else:
        softmax_rows_range(out, x, 0, x.shape[0])
