"""Fused softmax + cross-entropy: the loss and its gradient in one pass over the scores."""
import numpy as np
from numba import njit, prange

from ._threads import use_threads
from .cross_entropy import LOG_GUARD
from .fast_math import fast_log
from .softmax import exp_shifted_rows

#: Rows per chunk of the loss reduction.  The chunking does not depend on the
#: thread count, so one and several threads give bitwise-equal losses.
ROWS_PER_CHUNK = 1024


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def softmax_cross_entropy_rows(dx, x, t, n_total, lo, hi):
    """Rows lo..hi: dx = (softmax(x) - t) / n_total; returns the sum of row losses.

    Row loss = -sum_c t[c] * log(softmax(x)[c] + 1e-9), summed in float64.
    dx, x, t: (N, C), same float dtype, C-contiguous.  dx may be x: each
    element is read before it is overwritten.  A NaN score makes its row
    and the loss NaN.

    Two steps over the block of rows, which stays in cache: exp(x - row max)
    (exp_shifted_rows, vectorized), then per row the probabilities, the
    gradient and the loss, with a log only where the target is non-zero.
    """
    exp_shifted_rows(dx, x, lo, hi)
    C = x.shape[1]
    total = 0.0
    scale = 1.0 / n_total
    for i in range(lo, hi):
        z = dx[i, 0]
        for c in range(1, C):
            z += dx[i, c]
        if z != z:  # a NaN score: the loss is NaN whatever the targets
            total += z
        inv_z = 1.0 / z
        for c in range(C):
            p = dx[i, c] * inv_z
            dx[i, c] = (p - t[i, c]) * scale
            if t[i, c] != 0.0:  # one log per row for one-hot targets
                total -= t[i, c] * fast_log(p + LOG_GUARD)
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

    dx, x, t: (N, C), same float dtype, C-contiguous (t: one-hot or soft
    targets).  Returns the loss as a float and sets dx = (softmax(x) - t) / N,
    the gradient of that loss with respect to x (the course's OutputLayer).
    Rows are processed in chunks of ROWS_PER_CHUNK, on several threads when
    there are enough; the loss is the same to the bit for any thread count.
    """
    N = x.shape[0]
    if N <= ROWS_PER_CHUNK:
        return softmax_cross_entropy_rows(dx, x, t, N, 0, N) / N
    partial = np.empty(-(-N // ROWS_PER_CHUNK))
    if use_threads(x.size * 4):
        _chunks_parallel(partial, dx, x, t)
    else:
        _chunks_serial(partial, dx, x, t)
    return float(partial.sum()) / N


def softmax_cross_entropy_to(loss, k, dx, x, t):
    """loss[k] = softmax_cross_entropy(dx, x, t).  loss: (n,) float64.

    The CUDA twin leaves the loss on the device (no wait); here it is the same call.
    """
    loss[k] = softmax_cross_entropy(dx, x, t)
