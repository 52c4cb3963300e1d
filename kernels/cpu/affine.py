"""Affine layer y = x @ W + b: forward, input gradient, parameter gradients.

The matrix products go to BLAS (numba's np.dot calls scipy's); the bias,
the ReLU around the product (forward and backward) and the column sums are
single passes.
"""
import numpy as np
from numba import njit

from .._contracts import (
    check_affine_backward_input,
    check_affine_backward_params,
    check_affine_forward,
    check_affine_relu_backward_input,
    check_affine_relu_forward,
    check_column_sums,
)


@njit(cache=True)
def affine_forward(out, x, W, b):
    """out = x @ W + b.  out: (N, M), x: (N, K), W: (K, M), b: (M,)."""
    check_affine_forward(out.shape, x.shape, W.shape, b.shape)
    np.dot(x, W, out)
    N, M = out.shape
    for i in range(N):
        for j in range(M):
            out[i, j] += b[j]


@njit(cache=True)
def affine_relu_forward(out, mask, x, W, b):
    """out = max(x @ W + b, 0), mask = (x @ W + b <= 0): bias and ReLU in one pass.

    out: (N, M), mask: (N, M) bool, x: (N, K), W: (K, M), b: (M,).
    """
    check_affine_relu_forward(out.shape, mask.shape, x.shape, W.shape, b.shape)
    np.dot(x, W, out)
    N, M = out.shape
    for i in range(N):
        for j in range(M):
            v = out[i, j] + b[j]
            dead = v <= 0.0
            mask[i, j] = dead
            out[i, j] = 0.0 if dead else v


@njit(cache=True)
def affine_backward_input(dx, dout, W):
    """dx = dout @ W.T.  dx: (N, K), dout: (N, M), W: (K, M)."""
    check_affine_backward_input(dx.shape, dout.shape, W.shape)
    np.dot(dout, W.T, dx)


@njit(cache=True)
def affine_relu_backward_input(dx, dout, W, mask):
    """dx = dout @ W.T, then 0 where mask: the gradient that flows back through
    an affine layer and, before it, a ReLU with that mask (ReLU backward fused in).

    dx: (N, K), dout: (N, M), W: (K, M), mask: (N, K) bool (affine_relu_forward's).
    """
    check_affine_relu_backward_input(dx.shape, dout.shape, W.shape, mask.shape)
    np.dot(dout, W.T, dx)
    N, K = dx.shape
    for i in range(N):
        for k in range(K):
            if mask[i, k]:
                dx[i, k] = 0.0


@njit(cache=True)
def affine_backward_params(dW, db, dout, x):
    """dW = x.T @ dout, db = dout summed over rows.

    dW: (K, M), db: (M,), dout: (N, M), x: (N, K).
    """
    check_affine_backward_params(dW.shape, db.shape, dout.shape, x.shape)
    np.dot(x.T, dout, dW)
    column_sums(db, dout)


@njit(cache=True)
def column_sums(out, x):
    """out = x summed over rows.  out: (M,), x: (N, M)."""
    check_column_sums(out.shape, x.shape)
    N, M = x.shape
    out[:] = 0.0
    for i in range(N):
        for j in range(M):
            out[j] += x[i, j]
