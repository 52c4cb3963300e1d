"""Training loops of the softmax linear classifier on the GPU (twin of
fastnp.kernels.cpu.linear_classifier).

The loops run on the host, launching per update: the batch's scores (tiled
multiply, bias fused), the fused softmax + cross-entropy (its cost written
straight into J_his on the device), and the update W += -alpha X.T G as the
multiply's "axpy" epilogue, so the weight gradient is never stored.
Nothing waits for the device inside the loop.
"""
import numpy as np
from numba import cuda

from ..cpu.linear_classifier import sgd_rows
from ._launch import grid_1d
from .affine import column_sums
from .axpy import axpy
from .matmul import matmul
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
    """
    N, C = Y.shape
    scores = cuda.device_array((N, C), X.dtype)
    db = cuda.device_array(C, X.dtype)
    for it in range(J_his.shape[0]):
        _step(W, b, J_his, it, X, Y, alpha, scores, db)
        _record(W_his, W, it, record_every)


def stochastic_gradient_descent(W, b, J_his, W_his, X, Y, alpha, mini_batch, record_every, seed):
    """Mini-batch SGD, len(J_his) updates, in place on W and b (device arrays as in
    batch_gradient_descent).  The batches are those the CPU twin draws for
    the same seed (cpu.linear_classifier.sgd_rows), gathered on the device."""
    iterations = J_his.shape[0]
    rows = np.empty((iterations, mini_batch), np.int64)
    sgd_rows(rows, X.shape[0], seed)
    rows = cuda.to_device(rows)
    C = Y.shape[1]
    Xb = cuda.device_array((mini_batch, X.shape[1]), X.dtype)
    Yb = cuda.device_array((mini_batch, C), X.dtype)
    scores = cuda.device_array((mini_batch, C), X.dtype)
    db = cuda.device_array(C, X.dtype)
    for it in range(iterations):
        _gather(Xb, X, rows, it)
        _gather(Yb, Y, rows, it)
        _step(W, b, J_his, it, Xb, Yb, alpha, scores, db)
        _record(W_his, W, it, record_every)
