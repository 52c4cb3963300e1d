"""Affine layer y = x @ W + b: forward, input gradient, parameter gradients.

The matrix products go to BLAS (numba's np.dot calls scipy's); the bias,
the ReLU around the product (forward and backward) and the column sums are
single passes.  Each kernel is compiled as <name>_compiled, which checks
shapes and is what other compiled kernels call; <name> checks dtypes
first, from Python.
"""
import numpy as np
from numba import njit

from .._contracts import (
    check_affine_backward_input,
    check_affine_backward_params,
    check_affine_forward,
    check_affine_relu_backward_input,
    check_affine_relu_forward,
    check_c_contiguous,
    check_column_sums,
    check_floats,
    check_mask,
)
from .relu import zero_where


@njit(cache=True)
def affine_forward_compiled(out, x, W, b):
    check_affine_forward(out.shape, x.shape, W.shape, b.shape)
    np.dot(x, W, out)
    N, M = out.shape
    for i in range(N):
        for j in range(M):
            out[i, j] += b[j]


def affine_forward(out, x, W, b):
    """out = x @ W + b.  out: (N, M), x: (N, K), W: (K, M), b: (M,), one float dtype."""
    check_floats("affine_forward", "out, x, W and b", out, x, W, b)
    check_c_contiguous("affine_forward", "out", out)
    affine_forward_compiled(out, x, W, b)


@njit(cache=True)
def affine_relu_forward_compiled(out, mask, x, W, b):
    check_affine_relu_forward(out.shape, mask.shape, x.shape, W.shape, b.shape)
    np.dot(x, W, out)
    N, M = out.shape
    for i in range(N):
        for j in range(M):
            v = out[i, j] + b[j]
            dead = v <= 0.0
            mask[i, j] = dead
            out[i, j] = 0.0 if dead else v


def affine_relu_forward(out, mask, x, W, b):
    """out = max(x @ W + b, 0), mask = (x @ W + b <= 0): bias and ReLU in one pass.

    out: (N, M), mask: (N, M) bool, x: (N, K), W: (K, M), b: (M,); out, x,
    W and b of one float dtype.
    """
    check_floats("affine_relu_forward", "out, x, W and b", out, x, W, b)
    check_c_contiguous("affine_relu_forward", "out", out)
    check_mask("affine_relu_forward", mask)
    affine_relu_forward_compiled(out, mask, x, W, b)


@njit(cache=True)
def affine_backward_input_compiled(dx, dout, W):
    check_affine_backward_input(dx.shape, dout.shape, W.shape)
    np.dot(dout, W.T, dx)


def affine_backward_input(dx, dout, W):
    """dx = dout @ W.T.  dx: (N, K), dout: (N, M), W: (K, M), one float dtype."""
    check_floats("affine_backward_input", "dx, dout and W", dx, dout, W)
    check_c_contiguous("affine_backward_input", "dx", dx)
    affine_backward_input_compiled(dx, dout, W)


@njit(cache=True)
def affine_relu_backward_input_compiled(dx, dout, W, mask):
    check_affine_relu_backward_input(dx.shape, dout.shape, W.shape, mask.shape)
    np.dot(dout, W.T, dx)
    zero_where(dx, mask)


def affine_relu_backward_input(dx, dout, W, mask):
    """dx = dout @ W.T, then 0 where mask: the gradient that flows back through
    an affine layer and, before it, a ReLU with that mask (ReLU backward fused in).

    dx: (N, K), dout: (N, M), W: (K, M), one float dtype; mask: (N, K) bool
    (affine_relu_forward's).
    """
    check_floats("affine_relu_backward_input", "dx, dout and W", dx, dout, W)
    check_c_contiguous("affine_relu_backward_input", "dx", dx)
    check_mask("affine_relu_backward_input", mask)
    affine_relu_backward_input_compiled(dx, dout, W, mask)


@njit(cache=True)
def affine_backward_params_compiled(dW, db, dout, x):
    check_affine_backward_params(dW.shape, db.shape, dout.shape, x.shape)
    np.dot(x.T, dout, dW)
    column_sums_compiled(db, dout)


def affine_backward_params(dW, db, dout, x):
    """dW = x.T @ dout, db = dout summed over rows.

    dW: (K, M), db: (M,), dout: (N, M), x: (N, K), one float dtype.
    """
    check_floats("affine_backward_params", "dW, db, dout and x", dW, db, dout, x)
    check_c_contiguous("affine_backward_params", "dW", dW)
    affine_backward_params_compiled(dW, db, dout, x)


@njit(cache=True)
def column_sums_compiled(out, x):
    check_column_sums(out.shape, x.shape)
    N, M = x.shape
    out[:] = 0.0
    for i in range(N):
        for j in range(M):
            out[j] += x[i, j]


def column_sums(out, x):
    """out = x summed over rows.  out: (M,), x: (N, M), one float dtype."""
    check_floats("column_sums", "out and x", out, x)
    column_sums_compiled(out, x)
