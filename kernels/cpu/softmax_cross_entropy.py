"""Fused softmax + cross-entropy: the loss and its gradient in one pass over the scores."""
import numpy as np
from numba import njit, prange

from ._threads import use_threads
from .cross_entropy import LOG_GUARD

#: Rows per chunk of the loss reduction.  The chunking does not depend on the
#: thread count, so one and several threads give bitwise-equal losses.
ROWS_PER_CHUNK = 256


@njit(cache=True)
def softmax_cross_entropy_rows(dx, x, t, n_total, lo, hi):
    """Rows lo..hi: dx = (softmax(x) - t) / n_total; returns the sum of row losses.

    Row loss = -sum_c t[c] * log(softmax(x)[c] + 1e-9), summed in float64.
    dx, x, t: (N, C), same float dtype.  dx may be x: each element is read
    before it is overwritten.
    """
    C = x.shape[1]
    total = 0.0
    for i in range(lo, hi):
        m = x[i, 0]
        for c in range(1, C):
            if x[i, c] > m:
                m = x[i, c]
        z = 0.0
        for c in range(C):
            e = np.exp(x[i, c] - m)
            dx[i, c] = e  # dx holds exp(x - max) until the next loop
            z += e
        if z != z:  # a NaN score: the loss is NaN whatever the targets
            total += z
        for c in range(C):
            p = dx[i, c] / z
            if t[i, c] != 0.0:
                total -= t[i, c] * np.log(p + LOG_GUARD)
            dx[i, c] = (p - t[i, c]) / n_total
    return total


@njit(cache=True, parallel=True)
def _chunks_parallel(partial, dx, x, t):
    N = x.shape[0]
    for k in prange(partial.shape[0]):
        lo = k * ROWS_PER_CHUNK
        partial[k] = softmax_cross_entropy_rows(dx, x, t, N, lo, min(lo + ROWS_PER_CHUNK, N))


@njit(cache=True)
def _chunks_serial(partial, dx, x, t):
    N = x.shape[0]
    for k in range(partial.shape[0]):
        lo = k * ROWS_PER_CHUNK
        partial[k] = softmax_cross_entropy_rows(dx, x, t, N, lo, min(lo + ROWS_PER_CHUNK, N))


def softmax_cross_entropy(dx, x, t):
    """Mean cross-entropy of softmax(x) against t; writes its gradient into dx.

    dx, x, t: (N, C), same float dtype (t: one-hot or soft targets).
    Returns the loss as a float and sets dx = (softmax(x) - t) / N, the
    gradient of that loss with respect to x (the course's OutputLayer).
    """
    n_chunks = -(-x.shape[0] // ROWS_PER_CHUNK)
    partial = np.empty(n_chunks)
    if use_threads(x.size * 4):
        _chunks_parallel(partial, dx, x, t)
    else:
        _chunks_serial(partial, dx, x, t)
    return float(partial.sum()) / x.shape[0]
