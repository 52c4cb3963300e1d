"""Training loops of the softmax linear classifier (scores = X @ W + b).

Both loops run entirely in compiled code and update W and b in place; the
caller passes copies so the user's arrays are never touched.
"""
import numpy as np
from numba import njit

from .affine import affine_backward_params, affine_forward
from .axpy import axpy
from .softmax_cross_entropy import softmax_cross_entropy_rows


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(a, b):
    """sum(a * b) over two (n,) arrays; reassociation lets LLVM vectorize it."""
    total = 0.0
    for k in range(a.shape[0]):
        total += a[k] * b[k]
    return total


@njit(cache=True, fastmath={"reassoc", "contract"})
def _axpy(alpha, x, y):
    """y += alpha * x over two (n,) arrays."""
    for k in range(y.shape[0]):
        y[k] += alpha * x[k]


@njit(cache=True)
def _record(W_his, W, it, record_every):
    """W_his[it // record_every] = W when update `it` is one to keep."""
    if record_every > 0 and it % record_every == 0:
        W_his[it // record_every] = W


@njit(cache=True)
def batch_gradient_descent(W, b, J_his, W_his, X, Y, alpha, record_every):
    """Full-batch gradient descent, len(J_his) updates, in place on W and b.

    W: (D, C), b: (C,) updated in place.  J_his: (iterations,) receives the
    cost before each update.  W_his: (ceil(iterations / record_every), D, C)
    receives W after updates 0, record_every, 2 * record_every, ...
    (record_every 0 keeps none).  X: (N, D), Y: (N, C) one-hot or soft.
    The gradient of the mean cost is X.T @ (softmax - Y) / N and its row sum.
    """
    N = X.shape[0]
    C = W.shape[1]
    dscores = np.empty((N, C), X.dtype)
    dW = np.empty_like(W)
    db = np.empty_like(b)
    for it in range(J_his.shape[0]):
        affine_forward(dscores, X, W, b)
        J_his[it] = softmax_cross_entropy_rows(dscores, dscores, Y, N, 0, N) / N
        affine_backward_params(dW, db, dscores, X)
        axpy(W.reshape(W.size), -alpha, dW.reshape(dW.size))
        axpy(b, -alpha, db)
        _record(W_his, W, it, record_every)


@njit(cache=True)
def stochastic_gradient_descent(W, b, J_his, W_his, X, Y, alpha, mini_batch, record_every, seed):
    """Mini-batch SGD, len(J_his) updates, in place on W and b.

    W: (D, C), b: (C,) updated in place.  J_his: (iterations,) receives the
    cost of each drawn batch before its update.  W_his as in
    batch_gradient_descent.  X: (N, D), Y: (N, C).  Each update draws
    `mini_batch` distinct rows (1 <= mini_batch <= N) from numba's generator
    seeded with `seed`, so a seed fixes the run.

    Layout: the loop keeps Wt = W.T, (C, D), so each score is a dot product
    and each update an axpy over the contiguous D-long rows of X and Wt.
    """
    N = X.shape[0]
    C = W.shape[1]
    np.random.seed(seed)
    Wt = np.ascontiguousarray(W.T)
    order = np.arange(N)
    dscores = np.empty((mini_batch, C), X.dtype)
    targets = np.empty((mini_batch, C), X.dtype)
    for it in range(J_his.shape[0]):
        # Partial Fisher-Yates shuffle: order[:mini_batch] becomes a uniform
        # draw without replacement whatever order the array is left in.
        for k in range(mini_batch):
            j = np.random.randint(k, N)
            order[k], order[j] = order[j], order[k]
            row = X[order[k]]
            for c in range(C):
                dscores[k, c] = _dot(Wt[c], row) + b[c]
                targets[k, c] = Y[order[k], c]
        J_his[it] = softmax_cross_entropy_rows(dscores, dscores, targets, mini_batch, 0, mini_batch) / mini_batch
        for c in range(C):
            db_c = 0.0
            for k in range(mini_batch):
                _axpy(-alpha * dscores[k, c], X[order[k]], Wt[c])
                db_c += dscores[k, c]
            b[c] -= alpha * db_c
        _record(W_his, Wt.T, it, record_every)
    W[:] = Wt.T
