"""Affine layer y = x @ W + b: forward, input gradient, parameter gradients.

The matrix products go to BLAS (numba's np.dot calls scipy's); the bias and
the column sums are single passes.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def affine_forward(out, x, W, b):
    """out = x @ W + b.  out: (N, M), x: (N, K), W: (K, M), b: (M,)."""
    np.dot(x, W, out)
    N, M = out.shape
    for i in range(N):
        for j in range(M):
            out[i, j] += b[j]


@njit(cache=True)
def affine_backward_input(dx, dout, W):
    """dx = dout @ W.T.  dx: (N, K), dout: (N, M), W: (K, M)."""
    np.dot(dout, W.T, dx)


@njit(cache=True)
def affine_backward_params(dW, db, dout, x):
    """dW = x.T @ dout, db = dout summed over rows.

    dW: (K, M), db: (M,), dout: (N, M), x: (N, K).
    """
    np.dot(x.T, dout, dW)
    N, M = dout.shape
    db[:] = 0.0
    for i in range(N):
        for j in range(M):
            db[j] += dout[i, j]
