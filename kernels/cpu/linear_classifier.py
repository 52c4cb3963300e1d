"""Training loops of the softmax linear classifier (scores = X @ W + b).

Both loops run entirely in compiled code and update W and b in place; the
caller passes copies so the user's arrays are never touched.
"""
import numpy as np
from numba import njit

from .affine import affine_backward_params, affine_forward
from .axpy import axpy_serial
from .softmax_cross_entropy import softmax_cross_entropy_rows


#: Width of the column tiles of the SGD loop: a tile of Wt (C rows) and of
#: the drawn rows of X stay in cache while every pair of them meets.
SGD_TILE = 512


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot_rows(W, c, X, r, lo, hi):
    """sum(W[c, lo:hi] * X[r, lo:hi]).

    Rows are passed as (array, index) rather than as views: a view costs a
    reference-count update, more than the arithmetic in these inner loops.
    Unsigned column indices avoid numba's negative-index wraparound, and
    reassociation lets LLVM vectorize the sums.
    """
    total = 0.0
    for k in range(np.uint64(lo), np.uint64(hi)):
        total += W[c, k] * X[r, k]
    return total


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot_2x4(out, W, c, X, r, lo, hi):
    """out[i, j] = W[c + i, lo:hi] . X[r[j], lo:hi] for i < 2, j < 4.

    Eight independent sums: six loads feed eight multiply-adds, and the
    accumulators hide the multiply-add latency.
    """
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
    r0, r1, r2, r3 = r[0], r[1], r[2], r[3]
    for k in range(np.uint64(lo), np.uint64(hi)):
        w0, w1 = W[c, k], W[c + 1, k]
        x0, x1, x2, x3 = X[r0, k], X[r1, k], X[r2, k], X[r3, k]
        s00 += w0 * x0
        s01 += w0 * x1
        s02 += w0 * x2
        s03 += w0 * x3
        s10 += w1 * x0
        s11 += w1 * x1
        s12 += w1 * x2
        s13 += w1 * x3
    out[0, 0], out[0, 1], out[0, 2], out[0, 3] = s00, s01, s02, s03
    out[1, 0], out[1, 1], out[1, 2], out[1, 3] = s10, s11, s12, s13


@njit(cache=True, fastmath={"contract"})
def _axpy_rows(W, c, a, X, r, lo, hi):
    """W[c, lo:hi] += a * X[r, lo:hi]."""
    for k in range(np.uint64(lo), np.uint64(hi)):
        W[c, k] += a * X[r, k]


@njit(cache=True, fastmath={"contract"})
def _axpy_2x4(W, c, a, X, r, lo, hi):
    """W[c + i, lo:hi] += sum_j a[i, j] X[r[j], lo:hi] for i < 2: one pass over two rows of W."""
    r0, r1, r2, r3 = r[0], r[1], r[2], r[3]
    a00, a01, a02, a03 = a[0, 0], a[0, 1], a[0, 2], a[0, 3]
    a10, a11, a12, a13 = a[1, 0], a[1, 1], a[1, 2], a[1, 3]
    for k in range(np.uint64(lo), np.uint64(hi)):
        x0, x1, x2, x3 = X[r0, k], X[r1, k], X[r2, k], X[r3, k]
        W[c, k] += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
        W[c + 1, k] += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3


@njit(cache=True)
def _record(W_his, Wt, it, record_every):
    """W_his[it // record_every] = Wt.T when update `it` is one to keep."""
    if record_every > 0 and it % record_every == 0:
        W_his[it // record_every] = Wt.T


@njit(cache=True)
def _step(Wt, b, X, Y, rows, alpha, scores, targets, groups, group_coef, block):
    """One gradient-descent update on the rows `rows` of X; returns their cost before it.

    Wt: (C, D) transposed weights and b: (C,), updated in place.  X: (N, D),
    Y: (N, C).  rows: (m,) distinct row indices.  Work buffers: scores,
    targets: (m, C); groups: (ceil(m / 4), 4) int64 and group_coef:
    (ceil(m / 4), C, 4) for m >= 4 (empty otherwise); block: (2, 4) float64.

    Scores and the update go tile by tile over the D columns (SGD_TILE),
    two classes by four rows at a time (_dot_2x4, _axpy_2x4), so each load
    feeds more than one multiply-add; the last group of four is padded with
    its last row, whose padded slots are dropped (scores) or weighted 0
    (update).  With fewer than four rows they go one by one.
    """
    D = X.shape[1]
    C, m = Wt.shape[0], rows.shape[0]
    n_groups = groups.shape[0]
    C2 = C - C % 2
    for k in range(m):
        for c in range(C):
            scores[k, c] = b[c]
            targets[k, c] = Y[rows[k], c]
    for g in range(n_groups):
        for j in range(4):
            groups[g, j] = rows[min(4 * g + j, m - 1)]
    for lo in range(0, D, SGD_TILE):
        hi = min(lo + SGD_TILE, D)
        for g in range(n_groups):
            in_group = min(4, m - 4 * g)
            for c in range(0, C2, 2):
                _dot_2x4(block, Wt, c, X, groups[g], lo, hi)
                for j in range(in_group):
                    scores[4 * g + j, c] += block[0, j]
                    scores[4 * g + j, c + 1] += block[1, j]
            for c in range(C2, C):
                for j in range(in_group):
                    scores[4 * g + j, c] += _dot_rows(Wt, c, X, groups[g, j], lo, hi)
        if n_groups == 0:
            for k in range(m):
                for c in range(C):
                    scores[k, c] += _dot_rows(Wt, c, X, rows[k], lo, hi)
    # scores become the gradient of the mean cost: (softmax - targets) / m
    cost = softmax_cross_entropy_rows(scores, scores, targets, m, 0, m) / m
    for g in range(n_groups):
        for j in range(min(4, m - 4 * g)):
            for c in range(C):
                group_coef[g, c, j] = -alpha * scores[4 * g + j, c]
    for lo in range(0, D, SGD_TILE):
        hi = min(lo + SGD_TILE, D)
        for g in range(n_groups):
            for c in range(0, C2, 2):
                _axpy_2x4(Wt, c, group_coef[g, c:c + 2], X, groups[g], lo, hi)
            for c in range(C2, C):
                for j in range(min(4, m - 4 * g)):
                    _axpy_rows(Wt, c, group_coef[g, c, j], X, groups[g, j], lo, hi)
        if n_groups == 0:
            for k in range(m):
                for c in range(C):
                    _axpy_rows(Wt, c, -alpha * scores[k, c], X, rows[k], lo, hi)
    for c in range(C):
        db_c = 0.0
        for k in range(m):
            db_c += scores[k, c]
        b[c] -= alpha * db_c
    return cost


@njit(cache=True)
def _step_buffers(m, C, dtype):
    """The work buffers of _step for m rows and C classes."""
    n_groups = (m + 3) // 4 if m >= 4 else 0
    return (np.empty((m, C), dtype), np.empty((m, C), dtype), np.empty((n_groups, 4), np.int64),
            np.zeros((n_groups, C, 4), dtype), np.empty((2, 4)))


#: Batch gradient descent updates its scores by a recurrence (see
#: batch_gradient_descent) and recomputes them from W this often, which keeps
#: their rounding drift at a few ulp.
SCORES_REFRESH = 16


@njit(cache=True)
def batch_gradient_descent(W, b, J_his, W_his, X, Y, alpha, record_every):
    """Full-batch gradient descent, len(J_his) updates, in place on W and b.

    W: (D, C), b: (C,) updated in place.  J_his: (iterations,) receives the
    cost before each update.  W_his: (ceil(iterations / record_every), D, C)
    receives W after updates 0, record_every, 2 * record_every, ...
    (record_every 0 keeps none).  X: (N, D), Y: (N, C) one-hot or soft.

    With G = (softmax(S) - Y) / N the gradient at the scores S = X W + b,
    an update is W -= alpha X.T G, b -= alpha G.T 1, so the next scores are
        S - alpha (X X.T + 1 1.T) G,
    an (N, N) by (N, C) product instead of (N, D) by (D, C): with the Gram
    matrix K = X X.T + 1 computed once, each update costs one product with
    X (for W, which the caller receives and W_his records) instead of two.
    Every SCORES_REFRESH updates the scores are recomputed from W.
    """
    N = X.shape[0]
    C = W.shape[1]
    scores = np.empty((N, C), X.dtype)
    grad = np.empty((N, C), X.dtype)
    step = np.empty((N, C), X.dtype)
    gram = np.empty((N, N), X.dtype)
    np.dot(X, X.T, gram)
    gram += 1.0
    dW = np.empty_like(W)
    db = np.empty_like(b)
    for it in range(J_his.shape[0]):
        if it % SCORES_REFRESH == 0:
            affine_forward(scores, X, W, b)
        J_his[it] = softmax_cross_entropy_rows(grad, scores, Y, N, 0, N) / N
        affine_backward_params(dW, db, grad, X)
        axpy_serial(W.reshape(W.size), -alpha, dW.reshape(dW.size))
        axpy_serial(b, -alpha, db)
        np.dot(gram, grad, step)
        axpy_serial(scores.reshape(scores.size), -alpha, step.reshape(step.size))
        if record_every > 0 and it % record_every == 0:
            W_his[it // record_every] = W


@njit(cache=True)
def _draw_rows(rows, order):
    """rows = len(rows) distinct entries of order, drawn with numba's generator.

    A partial Fisher-Yates shuffle: order[:m] becomes a uniform draw without
    replacement whatever order the array is left in (it carries over to the
    next draw).
    """
    N = order.shape[0]
    for k in range(rows.shape[0]):
        j = np.random.randint(k, N)
        order[k], order[j] = order[j], order[k]
        rows[k] = order[k]


@njit(cache=True)
def sgd_rows(rows, n, seed):
    """rows[it] = the rows stochastic_gradient_descent(..., seed) draws for update it.

    rows: (iterations, mini_batch) int64, n: the number of rows of X.  The
    CUDA twin draws its batches here, so both families follow the same path.
    """
    np.random.seed(seed)
    order = np.arange(n)
    for it in range(rows.shape[0]):
        _draw_rows(rows[it], order)


@njit(cache=True)
def stochastic_gradient_descent(W, b, J_his, W_his, X, Y, alpha, mini_batch, record_every, seed):
    """Mini-batch SGD, len(J_his) updates, in place on W and b.

    W: (D, C), b: (C,) updated in place.  J_his: (iterations,) receives the
    cost of each drawn batch before its update.  W_his as in
    batch_gradient_descent.  X: (N, D), Y: (N, C).  Each update draws
    `mini_batch` distinct rows (1 <= mini_batch <= N) from numba's generator
    seeded with `seed`, so a seed fixes the run, and is _step on them.

    Layout: the loop keeps Wt = W.T, (C, D), so each score is a dot product
    and each update an axpy over the contiguous D-long rows of X and Wt.
    """
    N = X.shape[0]
    np.random.seed(seed)
    Wt = np.ascontiguousarray(W.T)
    order = np.arange(N)
    rows = np.empty(mini_batch, np.int64)
    scores, targets, groups, group_coef, block = _step_buffers(mini_batch, W.shape[1], X.dtype)
    for it in range(J_his.shape[0]):
        _draw_rows(rows, order)
        J_his[it] = _step(Wt, b, X, Y, rows, alpha, scores, targets, groups, group_coef, block)
        _record(W_his, Wt, it, record_every)
    W[:] = Wt.T


@njit(cache=True, fastmath={"reassoc"})
def gather_rows_sum(X, steps, rows, seed):
    """Sum `rows` random rows of X per step for `steps` steps: the memory
    traffic of the SGD loop without its arithmetic (its speed floor)."""
    np.random.seed(seed)
    total = 0.0
    for _ in range(steps):
        for _ in range(rows):
            r = np.random.randint(0, X.shape[0])
            for k in range(np.uint64(X.shape[1])):
                total += X[r, k]
    return total
