"""Fused softmax + cross-entropy: the loss and its gradient in one pass over the scores.

softmax_cross_entropy_rows is compiled as softmax_cross_entropy_rows_compiled
(shape checks); the public kernels check dtypes first, from Python.
"""
import numpy as np
from numba import njit, prange

from .._contracts import (
    check_c_contiguous,
    check_fused_loss_dtypes,
    check_softmax_cross_entropy,
    check_softmax_cross_entropy_loss,
    check_softmax_cross_entropy_loss_to,
    check_softmax_cross_entropy_rows,
    check_softmax_cross_entropy_to,
)
from ._index import ZERO
from ._threads import use_threads
from .cross_entropy import LOG_GUARD
from .fast_math import fast_log
from .softmax import exp_shifted_rows

#: Rows per chunk of the loss reduction.  The chunking does not depend on the
#: thread count, so one and several threads give bitwise-equal losses.
ROWS_PER_CHUNK = 1024


@njit(cache=True, error_model="numpy")
def target_weight(t, i, c):
    """The target of row i, class c: t[i, c] for (N, C) targets, 1.0 or 0.0 for (N,) labels.

    numba compiles only the branch of t's dimension.
    """
    if t.ndim == 1:
        return 1.0 if t[i] == c else 0.0
    return t[i, c]


#: Loss terms whose logs the row kernel takes together, in one vectorized loop.
LOG_BATCH = 128


@njit(cache=True)
def log_terms_buffer():
    """The work buffer of softmax_cross_entropy_rows_buffered: (2, LOG_BATCH) float64."""
    return np.empty((2, LOG_BATCH))


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def softmax_cross_entropy_rows_compiled(dx, x, t, n_total, lo, hi):
    check_softmax_cross_entropy_rows(dx.shape, x.shape, t.shape, lo, hi)
    return softmax_cross_entropy_rows_buffered(dx, x, t, n_total, lo, hi, log_terms_buffer())


def softmax_cross_entropy_rows(dx, x, t, n_total, lo, hi):
    """Rows lo..hi: dx = (softmax(x) - t) / n_total; returns the sum of row losses.

    Row loss = -sum_c t[c] * log(softmax(x)[c] + 1e-9), summed in float64.
    dx, x: (N, C), same float dtype, C-contiguous.  t: (N, C) targets of
    that dtype (one-hot or soft), or (N,) integer labels, which stand for
    one-hot rows without their memory.  dx may be x: each element is read
    before it is overwritten.  A NaN score or a label outside [0, C) makes
    its row and the loss NaN.  Loops that call this per update use
    softmax_cross_entropy_rows_buffered with a buffer they keep.
    """
    check_fused_loss_dtypes("softmax_cross_entropy_rows", x, t, dx)
    check_c_contiguous("softmax_cross_entropy_rows", "dx, x and t", dx, x, t)
    return softmax_cross_entropy_rows_compiled(dx, x, t, n_total, lo, hi)


@njit(cache=True, error_model="numpy")
def softmax_cross_entropy_rows_buffered(dx, x, t, n_total, lo, hi, log_terms):
    """softmax_cross_entropy_rows with its work buffer given: log_terms from
    log_terms_buffer() (its contents are not kept between calls).

    Two steps over the block of rows, which stays in cache: exp(x - row max)
    (exp_shifted_rows, vectorized), then per row the probabilities and the
    gradient.  Each non-zero target's loss term (its weight and the log's
    argument) waits in log_terms; their logs are taken LOG_BATCH at a time in
    a loop that vectorizes, and the terms are still added in row order, so
    the sum is the one a log per term in the row loop would give.  A row
    with one non-zero target (a label, a one-hot row) finds it first and
    then writes its gradient without a test per class (that test mispredicts
    once a row: a third of the time on a Zen 3 core).  No contraction into
    fused multiply-adds here, so both ways give a row the same bits.
    """
    exp_shifted_rows(dx, x, lo, hi)
    C = x.shape[1]
    total = 0.0
    scale = 1.0 / n_total
    n_terms = ZERO  # not 0: see ZERO
    for i in range(lo, hi):
        z = dx[i, 0]
        for c in range(1, C):
            z += dx[i, c]
        if t.ndim == 1 and not 0 <= t[i] < C:  # (pruned for dense targets)
            z = np.nan
        if z != z:  # a NaN score: the loss is NaN whatever the targets
            total += z
        inv_z = 1.0 / z
        if t.ndim == 1:
            target, n_nonzero = min(max(t[i], 0), C - 1), 1  # an invalid label's row is NaN already
        else:
            target, n_nonzero = ZERO, ZERO
            for c in range(C):  # sums that vectorize: target is right when n_nonzero is 1
                nonzero = np.int64(t[i, c] != 0.0)
                n_nonzero += nonzero
                target += c * nonzero
        if n_nonzero == 1:
            log_terms[0, n_terms] = target_weight(t, i, target)
            log_terms[1, n_terms] = dx[i, target] * inv_z + LOG_GUARD
            n_terms += 1
            for c in range(C):
                p = dx[i, c] * inv_z
                dx[i, c] = (p - target_weight(t, i, c)) * scale
            if n_terms == LOG_BATCH:
                total = _add_log_terms(total, log_terms, n_terms)
                n_terms = 0
            continue
        for c in range(C):  # soft targets: a term per non-zero target, in class order
            p = dx[i, c] * inv_z
            y = target_weight(t, i, c)
            dx[i, c] = (p - y) * scale
            if y != 0.0:
                log_terms[0, n_terms] = y
                log_terms[1, n_terms] = p + LOG_GUARD
                n_terms += 1
                if n_terms == LOG_BATCH:
                    total = _add_log_terms(total, log_terms, n_terms)
                    n_terms = 0
    return _add_log_terms(total, log_terms, n_terms)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _add_log_terms(total, log_terms, n):
    """total - sum(log_terms[0, k] * log(log_terms[1, k]) for k < n), added in order."""
    args = log_terms[1]
    for k in range(np.uint64(n)):
        args[k] = fast_log(args[k])
    for k in range(n):
        total -= log_terms[0, k] * args[k]
    return total


@njit(cache=True)
def _chunk(dx, x, t, with_grad, lo, hi, log_terms):
    """Loss sum of rows lo..hi; their gradient goes to dx, or with_grad False
    to a scratch block that stays in cache (dx is then not touched)."""
    if with_grad:
        return softmax_cross_entropy_rows_buffered(dx, x, t, x.shape[0], lo, hi, log_terms)
    scratch = np.empty((hi - lo, x.shape[1]), x.dtype)
    return softmax_cross_entropy_rows_buffered(scratch, x[lo:hi], t[lo:hi], x.shape[0], ZERO, hi - lo, log_terms)


@njit(cache=True)
def _one_chunk(dx, x, t, with_grad):
    """_chunk over all rows (at most ROWS_PER_CHUNK): the small-batch call, kept short."""
    return _chunk(dx, x, t, with_grad, ZERO, x.shape[0], log_terms_buffer())


@njit(cache=True, parallel=True)
def _chunks_parallel(partial, dx, x, t, with_grad):
    N = x.shape[0]
    log_terms = np.empty((partial.shape[0], 2, LOG_BATCH))  # one buffer per chunk, one allocation
    for k in prange(partial.shape[0]):
        lo = k * ROWS_PER_CHUNK
        partial[k] = _chunk(dx, x, t, with_grad, lo, min(lo + ROWS_PER_CHUNK, N), log_terms[k])


@njit(cache=True)
def _chunks_serial(partial, dx, x, t, with_grad):
    N = x.shape[0]
    log_terms = log_terms_buffer()
    for k in range(partial.shape[0]):
        lo = k * ROWS_PER_CHUNK
        partial[k] = _chunk(dx, x, t, with_grad, lo, min(lo + ROWS_PER_CHUNK, N), log_terms)


def _mean_loss(dx, x, t, with_grad):
    N = x.shape[0]
    if N <= ROWS_PER_CHUNK:
        return _one_chunk(dx, x, t, with_grad) / N
    partial = np.empty(-(-N // ROWS_PER_CHUNK))
    if use_threads(x.size * 4):
        _chunks_parallel(partial, dx, x, t, with_grad)
    else:
        _chunks_serial(partial, dx, x, t, with_grad)
    return float(partial.sum()) / N


def softmax_cross_entropy(dx, x, t):
    """Mean cross-entropy of softmax(x) against t; writes its gradient into dx.

    dx, x: (N, C), same float dtype, C-contiguous; t: (N, C) one-hot or soft
    targets of that dtype, or (N,) integer labels.  Returns the loss as a
    float and sets dx = (softmax(x) - t) / N, the gradient of that loss with
    respect to x (the course's OutputLayer).  Rows are processed in chunks
    of ROWS_PER_CHUNK, on several threads when there are enough; the loss is
    the same to the bit for any thread count, and for labels or their
    one-hot rows.
    """
    check_fused_loss_dtypes("softmax_cross_entropy", x, t, dx)
    check_c_contiguous("softmax_cross_entropy", "dx, x and t", dx, x, t)
    check_softmax_cross_entropy.py_func(dx.shape, x.shape, t.shape)
    return _mean_loss(dx, x, t, True)


def softmax_cross_entropy_to(loss, k, dx, x, t):
    """loss[k] = softmax_cross_entropy(dx, x, t).  loss: (n,) float64.

    The CUDA twin leaves the loss on the device (no wait); here it is the same call.
    """
    check_fused_loss_dtypes("softmax_cross_entropy_to", x, t, dx, loss)
    check_c_contiguous("softmax_cross_entropy_to", "dx, x and t", dx, x, t)
    check_softmax_cross_entropy_to.py_func(loss.shape, k, dx.shape, x.shape, t.shape)
    loss[k] = _mean_loss(dx, x, t, True)


def softmax_cross_entropy_loss(x, t):
    """softmax_cross_entropy's loss alone, to the bit: no gradient is written.

    x: (N, C) float, C-contiguous; t: (N, C) targets of x's dtype or (N,)
    integer labels.  For evaluating a loss (TwoLayerNet.loss): it reads the
    scores once and writes nothing of their size.
    """
    check_fused_loss_dtypes("softmax_cross_entropy_loss", x, t)
    check_c_contiguous("softmax_cross_entropy_loss", "x and t", x, t)
    check_softmax_cross_entropy_loss.py_func(x.shape, t.shape)
    return _mean_loss(x, x, t, False)


def softmax_cross_entropy_loss_to(loss, k, x, t):
    """loss[k] = softmax_cross_entropy_loss(x, t).  loss: (n,) float64 (the CUDA twin does not wait)."""
    check_fused_loss_dtypes("softmax_cross_entropy_loss_to", x, t, loss=loss)
    check_c_contiguous("softmax_cross_entropy_loss_to", "x and t", x, t)
    check_softmax_cross_entropy_loss_to.py_func(loss.shape, k, x.shape, t.shape)
    loss[k] = _mean_loss(x, x, t, False)
