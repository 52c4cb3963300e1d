"""Training loops of the softmax linear classifier (scores = X @ W + b).

Both loops run entirely in compiled code and update W and b in place; the
caller passes copies so the user's arrays are never touched.
"""
import numpy as np
from numba import njit

from .._contracts import (
    check_batch_gradient_descent,
    check_c_contiguous,
    check_gradient_descent_dtypes,
    check_stochastic_gradient_descent,
)
from ._index import ZERO
from .affine import affine_backward_params_compiled, affine_forward_compiled
from .axpy import axpy_serial
from .softmax_cross_entropy import log_terms_buffer, softmax_cross_entropy_rows_buffered


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
def _copy(out, a):
    """out[...] = a for 2-D arrays of one shape, any layouts.  Explicit loops:
    numba's slice assignment (broadcasting, its error messages) adds seconds
    to the compilation of every kernel that uses it."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = a[i, j]


@njit(cache=True)
def _record(Wt_his, Wt, it, record_every):
    """Wt_his[it // record_every] = Wt when update `it` is one to keep."""
    if record_every > 0 and it % record_every == 0:
        _copy(Wt_his[it // record_every], Wt)


@njit(cache=True)
def _step(Wt, b, X, Y, rows, alpha, scores, targets, groups, group_coef, block, log_terms):
    """One gradient-descent update on the rows `rows` of X; returns their cost before it.

    Wt: (C, D) transposed weights and b: (C,), updated in place.  X: (N, D),
    Y: (N, C).  rows: (m,) distinct row indices.  Work buffers: scores,
    targets: (m, C); groups: (ceil(m / 4), 4) int64 and group_coef:
    (ceil(m / 4), C, 4) for m >= 4 (empty otherwise); block: (2, 4) float64;
    log_terms: log_terms_buffer().

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
    cost = softmax_cross_entropy_rows_buffered(scores, scores, targets, m, ZERO, m, log_terms) / m
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
            np.zeros((n_groups, C, 4), dtype), np.empty((2, 4)), log_terms_buffer())


#: The closed-form batch loop keeps an (N, N) Gram matrix: at most this many rows.
GRAM_MAX_ROWS = 4096


def gram_pays(N, D, C, iterations, n_records):
    """True when batch gradient descent on N rows of D features and C classes
    costs fewer multiply-adds in closed form (_batch_gd_gram) than as the
    textbook loop (_batch_gd_direct), and its Gram matrix stays small (no
    more rows than features, at most GRAM_MAX_ROWS)."""
    closed = N * N * D + iterations * N * N * C + (n_records + 1) * (N + C) * D * C
    direct = iterations * 2 * N * D * C
    return N <= min(D, GRAM_MAX_ROWS) and closed < direct


def _records_loop(loop, W_his, args_before, args_after):
    """Run loop(*args_before, records, *args_after), where records: (n, C, D)
    receives W.T for each kept update and W_his: (n, D, C) is what the caller
    asked to be filled.  When W_his is the transposed view of a C-contiguous
    (n, C, D) array (as batch_gradient_descent_func allocates it) the loop
    writes there directly; otherwise into a temporary copied over after."""
    records = W_his.transpose(0, 2, 1)
    if records.flags.c_contiguous and records.flags.writeable:
        loop(*args_before, records, *args_after)
        return
    tmp = np.empty(records.shape, records.dtype)
    loop(*args_before, tmp, *args_after)
    records[...] = tmp


@njit(cache=True)
def _batch_gd_gram(W, b, J_his, Wt_his, X, Y, alpha, record_every):
    """batch_gradient_descent in closed form.  Wt_his: (n, C, D) C-contiguous.

    With G_s = (softmax(S_s) - Y) / N the gradient at update s and
    A_t = G_0 + ... + G_(t-1), the weights after t updates are
        W_t = W_0 - alpha X.T A_t,   b_t = b_0 - alpha 1.T A_t,
    so their scores are S_t = X W_t + b_t = S_0 - alpha K A_t with the
    Gram matrix K = X X.T + 1 1.T, (N, N).  The loop therefore needs no
    (D, C) weights at all: only (N, C) sums.  The kept weights come after it
    from one product,
        [W_t0.T; W_t1.T; ...] = B @ [X; W_0.T],  block r of B (C, N + C) = [-alpha A_tr.T | I],
    an (n C, N + C) by (N + C, D) GEMM that writes every record once,
    instead of a product, an update and a copy per update.  Scores are
    computed afresh from A_t each update (no recurrence drift); b follows
    the textbook's update.
    """
    N, D = X.shape
    C = W.shape[1]
    gram = np.empty((N, N), X.dtype)
    np.dot(X, X.T, gram)
    gram += 1.0
    scores0 = np.empty((N, C), X.dtype)
    affine_forward_compiled(scores0, X, W, b)
    scores = np.empty((N, C), X.dtype)
    grad = np.empty((N, C), X.dtype)
    grad_sum = np.zeros((N, C), X.dtype)  # A_t
    n_records = Wt_his.shape[0]
    coef = np.zeros((n_records, C, N + C), X.dtype)  # the blocks of B
    log_terms = log_terms_buffer()
    for it in range(J_his.shape[0]):
        np.dot(gram, grad_sum, scores)
        for i in range(N):
            for c in range(C):
                scores[i, c] = scores0[i, c] - alpha * scores[i, c]
        J_his[it] = softmax_cross_entropy_rows_buffered(grad, scores, Y, N, ZERO, N, log_terms) / N
        for c in range(C):
            db = 0.0
            for i in range(N):
                grad_sum[i, c] += grad[i, c]
                db += grad[i, c]
            b[c] -= alpha * db
        if record_every > 0 and it % record_every == 0:
            r = it // record_every
            for c in range(C):
                for i in range(N):
                    coef[r, c, i] = -alpha * grad_sum[i, c]
                coef[r, c, N + c] = 1.0
    if J_his.shape[0] == 0:
        return
    stacked = np.empty((N + C, D), X.dtype)  # [X; W_0.T]
    _copy(stacked[:N], X)
    _copy(stacked[N:], W.T)
    if n_records > 0:
        np.dot(coef.reshape(n_records * C, N + C), stacked, Wt_his.reshape(n_records * C, D))
    last = np.zeros((N + C, C), X.dtype)  # [-alpha A_T; I]: the final W = stacked.T @ last
    for i in range(N):
        for c in range(C):
            last[i, c] = -alpha * grad_sum[i, c]
    for c in range(C):
        last[N + c, c] = 1.0
    np.dot(stacked.T, last, W)


@njit(cache=True)
def _batch_gd_direct(W, b, J_his, Wt_his, X, Y, alpha, record_every):
    """batch_gradient_descent as the textbook loop (a forward and a
    weight-gradient product per update), for many rows.  Wt_his: (n, C, D)."""
    N = X.shape[0]
    scores = np.empty((N, W.shape[1]), X.dtype)
    dW = np.empty_like(W)
    db = np.empty_like(b)
    log_terms = log_terms_buffer()
    for it in range(J_his.shape[0]):
        affine_forward_compiled(scores, X, W, b)
        J_his[it] = softmax_cross_entropy_rows_buffered(scores, scores, Y, N, ZERO, N, log_terms) / N
        affine_backward_params_compiled(dW, db, scores, X)
        axpy_serial(W.reshape(W.size), -alpha, dW.reshape(dW.size))
        axpy_serial(b, -alpha, db)
        _record(Wt_his, W.T, it, record_every)


def batch_gradient_descent(W, b, J_his, W_his, X, Y, alpha, record_every):
    """Full-batch gradient descent, len(J_his) updates, in place on W and b.

    W: (D, C) C-contiguous, b: (C,) updated in place.  J_his: (iterations,)
    receives the cost before each update.  W_his: (ceil(iterations /
    record_every), D, C) receives W after updates 0, record_every,
    2 * record_every, ... (record_every 0 keeps none); fastest as the
    transposed view of a C-contiguous (n, C, D) array (each record is then
    one contiguous block).  X: (N, D), Y: (N, C) one-hot or soft.

    Few rows (gram_pays): in closed form through the (N, N) Gram matrix,
    all kept weights in one matrix product at the end (_batch_gd_gram);
    otherwise the textbook loop (_batch_gd_direct).
    """
    check_gradient_descent_dtypes("batch_gradient_descent", W, b, J_his, W_his, X, Y)
    check_c_contiguous("batch_gradient_descent", "W, b, J_his, X and Y", W, b, J_his, X, Y)
    check_batch_gradient_descent.py_func(W.shape, b.shape, J_his.shape, W_his.shape, X.shape, Y.shape,
                                         record_every)
    N, D = X.shape
    loop = _batch_gd_gram if gram_pays(N, D, W.shape[1], J_his.shape[0], W_his.shape[0]) else _batch_gd_direct
    _records_loop(loop, W_his, (W, b, J_his), (X, Y, alpha, record_every))


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


def stochastic_gradient_descent(W, b, J_his, W_his, X, Y, alpha, mini_batch, record_every, seed):
    """Mini-batch SGD, len(J_his) updates, in place on W and b.

    W: (D, C), b: (C,) updated in place.  J_his: (iterations,) receives the
    cost of each drawn batch before its update.  W_his as in
    batch_gradient_descent.  X: (N, D), Y: (N, C).  Each update draws
    `mini_batch` distinct rows (1 <= mini_batch <= N) from numba's generator
    seeded with `seed`, so a seed fixes the run, and is _step on them.
    """
    check_gradient_descent_dtypes("stochastic_gradient_descent", W, b, J_his, W_his, X, Y)
    check_c_contiguous("stochastic_gradient_descent", "W, b, J_his, X and Y", W, b, J_his, X, Y)
    check_stochastic_gradient_descent.py_func(W.shape, b.shape, J_his.shape, W_his.shape, X.shape, Y.shape,
                                              mini_batch, record_every)
    _records_loop(_sgd, W_his, (W, b, J_his), (X, Y, alpha, mini_batch, record_every, seed))


@njit(cache=True)
def _sgd(W, b, J_his, Wt_his, X, Y, alpha, mini_batch, record_every, seed):
    """stochastic_gradient_descent's loop.  Wt_his: (n, C, D) receives W.T.

    Layout: the loop keeps Wt = W.T, (C, D), so each score is a dot product
    and each update an axpy over the contiguous D-long rows of X and Wt
    (and each record a plain copy of Wt).
    """
    N = X.shape[0]
    np.random.seed(seed)
    Wt = np.ascontiguousarray(W.T)
    order = np.arange(N)
    rows = np.empty(mini_batch, np.int64)
    buffers = _step_buffers(mini_batch, W.shape[1], X.dtype)
    for it in range(J_his.shape[0]):
        _draw_rows(rows, order)
        J_his[it] = _step(Wt, b, X, Y, rows, alpha, *buffers)
        _record(Wt_his, Wt, it, record_every)
    _copy(W, Wt.T)


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
