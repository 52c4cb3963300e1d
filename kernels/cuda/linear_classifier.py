"""Training loops of the softmax linear classifier on the GPU (twin of
fastnp.kernels.cpu.linear_classifier).

Small batches (the course's mini-batch SGD): one launch of one block runs
every update (_small_batch_loop), so the cost is the arithmetic, not the
~8 launches an update would take from the host.  Batch gradient descent on
few rows (the course's 20; cpu.linear_classifier.gram_pays) runs in the
CPU twin's closed form: the updates in one block on (N, N) and (N, C)
arrays (_gram_loop), the weights from two products and one kernel around it.

Larger batches: the loops run on the host, launching per update: the
batch's scores (tiled multiply, bias fused), the fused softmax +
cross-entropy (its cost written straight into J_his on the device), and the
update W += -alpha X.T G as the multiply's "axpy" epilogue, so the weight
gradient is never stored.  Nothing waits for the device inside the loop.
"""
import functools
import math

import numpy as np
from numba import cuda, float32, float64, int64

from .._contracts import (
    check_batch_gradient_descent,
    check_c_contiguous,
    check_gradient_descent_dtypes,
    check_stochastic_gradient_descent,
)
from ..cpu.linear_classifier import gram_pays, sgd_rows
from . import config
from ._launch import block_reducer, grid_1d, shuffle_enabled
from .affine import column_sums
from .axpy import axpy
from .cross_entropy import LOG_GUARD
from .matmul import matmul
from .softmax import exp_shifter
from .softmax_cross_entropy import softmax_cross_entropy_to


@cuda.jit
def _gather_rows(out, X, rows, it):
    """out[k] = X[rows[it, k]].  out: (m, D), X: (N, D), rows: (iterations, m) int64."""
    m, D = out.shape
    for e in range(cuda.grid(1), m * D, cuda.gridsize(1)):
        k, d = e // D, e % D
        out[k, d] = X[rows[it, k], d]


def _gather(out, X, rows, it):
    blocks, threads = grid_1d(out.shape[0] * out.shape[1])
    _gather_rows[blocks, threads](out, X, rows, it)


#: Loads each thread of the small-batch kernel issues together (columns in
#: its scores pass, batch rows in its update pass): loops that waited out one
#: memory latency per load made this kernel 0.27 ms per update in GPU run 7.
SMALL_BATCH_LOADS = 4


@functools.lru_cache(maxsize=None)
def _row_gradient(C):
    """A device function (scores, o, Y, r, m, v) -> loss for rows of C classes:
    scores[o:o + C], one row's scores, become its share of the mean-cost
    gradient (softmax - Y[r]) / m in place, and the row's cross-entropy
    (float64; NaN for a NaN score) is returned.  v: a local (C,) scratch row.
    Built per C, as exp_shifter."""
    exp_shifted = exp_shifter(C)

    @cuda.jit(device=True)
    def row_gradient(scores, o, Y, r, m, v):
        for c in range(C):
            v[c] = scores[o + c]
        z = exp_shifted(v)
        loss = 0.0
        hits = 0
        p_hit = 0.0
        y_hit = 0.0
        for c in range(C):
            p = v[c] / z
            y = Y[r, c]
            scores[o + c] = (p - y) / m
            if y != 0.0:
                hits += 1
                p_hit = p
                y_hit = y
        # One log per row after the loop: inside it, the threads of a warp
        # would take their rows' logs at different columns, one after another.
        if hits == 1:
            loss -= y_hit * math.log(p_hit + LOG_GUARD)
        elif hits > 1:  # soft targets: a log per non-zero target, in column order
            for c in range(C):
                y = Y[r, c]
                if y != 0.0:
                    loss -= y * math.log(v[c] / z + LOG_GUARD)
        if z != z:
            loss += z
        return loss

    return row_gradient


@cuda.jit(device=True)
def _bias_step(b, grad, m, alpha):
    """b -= alpha * (the column sums of grad), thread c taking column c.
    b: (C,), grad: a flat (m, C) shared array; the block's first C threads
    each add their column in row order, the other threads do nothing."""
    C = b.shape[0]
    c = cuda.threadIdx.x
    if c < C:
        db = 0.0
        for i in range(m):
            db += grad[i * C + c]
        b[c] -= alpha * db


@functools.lru_cache(maxsize=None)
def _small_batch_loop(dtype_name, threads, classes):
    """The single-block kernel that runs all updates of a small-batch loop,
    built per class count: its loops over the classes then have a fixed trip
    count, and the per-thread partial dot products stay in registers.

    Launch: one block of `threads` threads (a power of two).  Per update,
    with m batch rows and C classes: (1) for each row, the block's threads
    stride over the D columns, SMALL_BATCH_LOADS columns at a time (their
    X and W loads all in flight together), each keeping C partial dot
    products, and a shared-memory tree adds them into the row's scores;
    (2) one thread per row: softmax, the row's loss (float64) and
    G = (p - y) / m, in place; the block adds the losses into J_his[it];
    (3) W -= alpha X.T G with one thread per row d of W, which reads each
    X[batch[k], d] once (SMALL_BATCH_LOADS rows k at a time) and keeps the
    row's C sums in registers; b -= alpha * column sums of G; (4) the W_his
    copy when due.  Block barriers order the phases (they also make the
    block's global writes to W visible to the next update's reads).

    On an H100 (benchmarks/gpu/RESULTS.md, run 17): 110 us per update of
    10 x 3072 x 10 in float64, 35 us per single-row update.  Designs that
    read W once per update instead of once per batch row were slower there:
    X[batch] and W staged through shared memory tile by tile (198 us per
    update; 132 us with each tile's loads issued together and the next
    tile's in flight during this one's sums), and threads per class taking
    interleaved rows of W (265 us).
    """
    dtype = float32 if dtype_name == "float32" else float64
    max_scores = config.SMALL_BATCH_SCORES
    C = classes
    U = SMALL_BATCH_LOADS
    partial_sums = C * threads
    row_gradient = _row_gradient(C)

    @cuda.jit
    def kernel(W, b, J_his, W_his, X, Y, rows, row_step, alpha, record_every):
        """rows: (updates or 1, m) int64; update `it` uses rows[it * row_step]."""
        scores = cuda.shared.array(max_scores, dtype)  # (m, C): scores, then G
        red = cuda.shared.array(partial_sums, float64)  # (C, threads) partial sums
        batch = cuda.shared.array(threads, int64)  # the update's row indices
        acc = cuda.local.array(C, float64)
        xs = cuda.local.array(U, dtype)
        ws = cuda.local.array((U, C), dtype)
        v = cuda.local.array(C, dtype)  # a row's scores, then their exponentials
        tid = cuda.threadIdx.x
        D = W.shape[0]
        m = rows.shape[1]
        for it in range(J_his.shape[0]):
            if tid < m:
                batch[tid] = rows[it * row_step, tid]
            cuda.syncthreads()
            # (1) scores = X[batch] @ W + b
            for k in range(m):
                r = batch[k]
                for c in range(C):
                    acc[c] = 0.0
                for d0 in range(tid, D, threads * U):
                    for u in range(U):
                        d = d0 + u * threads
                        xs[u] = X[r, d] if d < D else 0.0
                        for c in range(C):
                            ws[u, c] = W[d, c] if d < D else 0.0
                    for u in range(U):
                        for c in range(C):
                            acc[c] += xs[u] * ws[u, c]
                for c in range(C):
                    red[c * threads + tid] = acc[c]
                cuda.syncthreads()
                half = threads // 2
                while half > 0:
                    if tid < half:
                        for c in range(C):
                            red[c * threads + tid] += red[c * threads + tid + half]
                    cuda.syncthreads()
                    half //= 2
                if tid < C:
                    scores[k * C + tid] = red[tid * threads] + b[tid]
                cuda.syncthreads()
            # (2) softmax, loss and G = (p - y) / m, one thread per row
            loss = 0.0
            if tid < m:
                loss = row_gradient(scores, tid * C, Y, batch[tid], m, v)
            red[tid] = loss
            cuda.syncthreads()
            half = threads // 2
            while half > 0:
                if tid < half:
                    red[tid] += red[tid + half]
                cuda.syncthreads()
                half //= 2
            if tid == 0:
                J_his[it] = red[0] / m
            # (3) W -= alpha X[batch].T G, b -= alpha sum_k G[k]
            for d in range(tid, D, threads):
                for c in range(C):
                    acc[c] = 0.0
                for k0 in range(0, m, U):
                    for u in range(U):
                        xs[u] = X[batch[k0 + u], d] if k0 + u < m else 0.0
                    for u in range(U):
                        if k0 + u < m:
                            for c in range(C):
                                acc[c] += xs[u] * scores[(k0 + u) * C + c]
                for c in range(C):
                    W[d, c] -= alpha * acc[c]
            _bias_step(b, scores, m, alpha)
            cuda.syncthreads()
            # (4) W after this update, when due
            if record_every > 0 and it % record_every == 0:
                for e in range(tid, D * C, threads):
                    W_his[it // record_every, e // C, e % C] = W[e // C, e % C]
            cuda.syncthreads()

    return kernel


@functools.lru_cache(maxsize=None)
def _gram_loop(dtype_name, threads, classes, shuffle):
    """The single-block kernel that runs every update of batch gradient
    descent in closed form (the twin of cpu.linear_classifier._batch_gd_gram,
    whose docstring derives it): per update, with A the sum of the gradients
    so far and K = X X.T + 1, the scores S = S_0 - alpha K A, then softmax,
    the cost and G = (softmax(S) - Y) / N, A += G and b -= alpha 1.T G.
    No (D, C) weights are touched inside the loop: (N, N) and (N, C) work
    per update instead of two (N, D) by (D, C) products.

    Launch: one block of `threads` threads (a power of two), one thread per
    row (N <= threads); A and G in shared memory.  Row i reads column i of
    K (K is symmetric), so a warp's reads of K are coalesced, and every
    thread reads the same A[j] at once (a shared-memory broadcast).  Block
    barriers: the cost's reduction (after it every row has read A, so
    threads may add their G to it), and one at the end of the update (b's
    column sums have read G).  A after update `it` goes to sums_his when
    a record is due, and A at the end to `sums`.  shuffle: the cost's
    reduction ends with warp shuffles (_launch.block_reducer).
    """
    dtype = float32 if dtype_name == "float32" else float64
    max_scores = config.SMALL_BATCH_SCORES
    C = classes
    row_gradient = _row_gradient(C)
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(gram, scores0, Y, b, J_his, sums_his, sums, alpha, record_every):
        """gram: (N, N), scores0 = X W_0 + b_0: (N, C), Y: (N, C), b: (C,)
        updated, J_his: (iterations,), sums_his: (n, N, C), sums: (N, C)."""
        grad = cuda.shared.array(max_scores, dtype)  # (N, C): scores, then G
        acc = cuda.shared.array(max_scores, dtype)  # (N, C): A
        buf = cuda.shared.array(threads, float64)
        v = cuda.local.array(C, dtype)
        tid = cuda.threadIdx.x
        N = gram.shape[0]
        o = tid * C
        if tid < N:
            for c in range(C):
                acc[o + c] = 0.0
        cuda.syncthreads()
        for it in range(J_his.shape[0]):
            loss = 0.0
            if tid < N:
                for c in range(C):
                    v[c] = 0.0
                for j in range(N):
                    k = gram[j, tid]
                    for c in range(C):
                        v[c] += k * acc[j * C + c]
                for c in range(C):
                    grad[o + c] = scores0[tid, c] - alpha * v[c]
                loss = row_gradient(grad, o, Y, tid, N, v)
            total = block_sum(buf, loss)
            if tid == 0:
                J_his[it] = total / N
            if tid < N:
                for c in range(C):
                    acc[o + c] += grad[o + c]
                if record_every > 0 and it % record_every == 0:
                    for c in range(C):
                        sums_his[it // record_every, tid, c] = acc[o + c]
            _bias_step(b, grad, N, alpha)
            cuda.syncthreads()
        if tid < N:
            for c in range(C):
                sums[tid, c] = acc[o + c]

    return kernel


@cuda.jit
def _weights_from_sums(out, W0, X, sums, alpha):
    """out[r] = W0 - alpha X.T sums[r]: the weights after the updates whose
    gradients add up to sums[r] (_gram_loop).  out: (n, D, C), W0: (D, C),
    X: (N, D), sums: (n, N, C).

    One thread per output element, grid-stride: neighbouring threads write
    neighbouring elements, and the C threads of one row d of a record read
    the same X[i, d] (N terms each, N small: the closed form's condition).
    """
    n, D, C = out.shape
    N = X.shape[0]
    for e in range(cuda.grid(1), n * D * C, cuda.gridsize(1)):
        r, d, c = e // (D * C), (e // C) % D, e % C
        s = 0.0
        for i in range(N):
            s += X[i, d] * sums[r, i, c]
        out[r, d, c] = W0[d, c] - alpha * s


def _batch_gd_gram(W, b, J_his, W_his, X, Y, alpha, record_every):
    """batch_gradient_descent in closed form (_gram_loop), for N <= THREADS rows.

    Launches: K = X X.T + 1 and S_0 = X W + b (two tiled products), the
    loop (one block), every kept W at once (_weights_from_sums, which
    reads W_0), and last W += -alpha X.T A (the product's axpy epilogue).
    """
    N, D = X.shape
    C = W.shape[1]
    gram = cuda.device_array((N, N), X.dtype)
    matmul(gram, X, X, trans_b=True, epilogue="bias", bias=cuda.to_device(np.ones(N, X.dtype)))
    scores0 = cuda.device_array((N, C), X.dtype)
    matmul(scores0, X, W, epilogue="bias", bias=b)
    n_records = W_his.shape[0]
    sums_his = cuda.device_array((n_records, N, C), X.dtype)
    sums = cuda.device_array((N, C), X.dtype)
    threads = config.THREADS
    loop = _gram_loop(np.dtype(X.dtype).name, threads, C, shuffle_enabled(threads))
    loop[1, threads](gram, scores0, Y, b, J_his, sums_his, sums, alpha, record_every)
    if n_records > 0:
        blocks, threads = grid_1d(n_records * D * C)
        _weights_from_sums[blocks, threads](W_his, W, X, sums_his, alpha)
    matmul(W, X, sums, trans_a=True, epilogue="axpy", alpha=-alpha)


def _fits_one_block(m, C):
    """Whether a batch of m rows and C classes runs as _small_batch_loop (a thread per row and per class)."""
    return max(m, C) <= config.THREADS and m * C <= config.SMALL_BATCH_SCORES and C <= config.SMALL_BATCH_CLASSES


def _run_small_batch(W, b, J_his, W_his, X, Y, rows, row_step, alpha, record_every):
    threads = config.THREADS
    kernel = _small_batch_loop(np.dtype(X.dtype).name, threads, W.shape[1])
    kernel[1, threads](W, b, J_his, W_his, X, Y, rows, row_step, alpha, record_every)


def _step(W, b, J_his, it, X, Y, alpha, scores, db):
    """One full-batch update on X: (m, D), Y: (m, C); J_his[it] = the cost before it."""
    matmul(scores, X, W, epilogue="bias", bias=b)
    softmax_cross_entropy_to(J_his, it, scores, scores, Y)  # scores become (softmax - Y) / m
    matmul(W, X, scores, trans_a=True, epilogue="axpy", alpha=-alpha)
    column_sums(db, scores)
    axpy(b, -alpha, db)


def _record(W_his, W, it, record_every):
    if record_every > 0 and it % record_every == 0:
        W_his[it // record_every].copy_to_device(W)


def batch_gradient_descent(W, b, J_his, W_his, X, Y, alpha, record_every):
    """Full-batch gradient descent, len(J_his) updates, in place on W and b.

    Device arrays: W: (D, C), b: (C,), J_his: (iterations,) float64 (the cost
    before each update), W_his: (ceil(iterations / record_every), D, C)
    (W after updates 0, record_every, ...; record_every 0 keeps none),
    X: (N, D), Y: (N, C).

    Few rows (one block's worth, and gram_pays): in closed form
    (_batch_gd_gram); otherwise up to one block's worth as one
    _small_batch_loop launch, and more rows launching per update.
    """
    check_gradient_descent_dtypes("batch_gradient_descent", W, b, J_his, W_his, X, Y)
    check_c_contiguous("batch_gradient_descent", "W, b, J_his, X and Y", W, b, J_his, X, Y)
    check_batch_gradient_descent.py_func(W.shape, b.shape, J_his.shape, W_his.shape, X.shape, Y.shape, record_every)
    N, C = Y.shape
    if J_his.shape[0] == 0:
        return
    if _fits_one_block(N, C):
        if gram_pays(N, X.shape[1], C, J_his.shape[0], W_his.shape[0]):
            _batch_gd_gram(W, b, J_his, W_his, X, Y, alpha, record_every)
        else:
            rows = cuda.to_device(np.arange(N, dtype=np.int64).reshape(1, N))
            _run_small_batch(W, b, J_his, W_his, X, Y, rows, 0, alpha, record_every)
        return
    scores = cuda.device_array((N, C), X.dtype)
    db = cuda.device_array(C, X.dtype)
    for it in range(J_his.shape[0]):
        _step(W, b, J_his, it, X, Y, alpha, scores, db)
        _record(W_his, W, it, record_every)


def stochastic_gradient_descent(W, b, J_his, W_his, X, Y, alpha, mini_batch, record_every, seed):
    """Mini-batch SGD, len(J_his) updates, in place on W and b (device arrays as in
    batch_gradient_descent).  The batches are those the CPU twin draws for
    the same seed (cpu.linear_classifier.sgd_rows), gathered on the device."""
    check_gradient_descent_dtypes("stochastic_gradient_descent", W, b, J_his, W_his, X, Y)
    check_c_contiguous("stochastic_gradient_descent", "W, b, J_his, X and Y", W, b, J_his, X, Y)
    check_stochastic_gradient_descent.py_func(W.shape, b.shape, J_his.shape, W_his.shape, X.shape, Y.shape,
                                              mini_batch, record_every)
    iterations = J_his.shape[0]
    rows = np.empty((iterations, mini_batch), np.int64)
    sgd_rows(rows, X.shape[0], seed)
    rows = cuda.to_device(rows)
    C = Y.shape[1]
    if _fits_one_block(mini_batch, C):
        _run_small_batch(W, b, J_his, W_his, X, Y, rows, 1, alpha, record_every)
        return
    Xb = cuda.device_array((mini_batch, X.shape[1]), X.dtype)
    Yb = cuda.device_array((mini_batch, C), X.dtype)
    scores = cuda.device_array((mini_batch, C), X.dtype)
    db = cuda.device_array(C, X.dtype)
    for it in range(iterations):
        _gather(Xb, X, rows, it)
        _gather(Yb, Y, rows, it)
        _step(W, b, J_his, it, Xb, Yb, alpha, scores, db)
        _record(W_his, W, it, record_every)
