"""Affine layer y = x @ W + b on the GPU (twin of fastnp.kernels.cpu.affine).

The products run through the tiled multiply of matmul.py with the bias (and
ReLU) fused into its epilogue; db is a column reduction (column_sums).
"""
import functools

from numba import cuda, float64

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
from . import config
from .matmul import matmul


def affine_forward(out, x, W, b):
    """out = x @ W + b.  out: (N, M), x: (N, K), W: (K, M), b: (M,)."""
    check_floats("affine_forward", "out, x, W and b", out, x, W, b)
    check_c_contiguous("affine_forward", "out", out)
    check_affine_forward.py_func(out.shape, x.shape, W.shape, b.shape)
    matmul(out, x, W, epilogue="bias", bias=b)


def affine_relu_forward(out, mask, x, W, b):
    """out = max(x @ W + b, 0), mask = (x @ W + b <= 0), in one pass.

    out: (N, M), mask: (N, M) bool, x: (N, K), W: (K, M), b: (M,).
    """
    check_floats("affine_relu_forward", "out, x, W and b", out, x, W, b)
    check_c_contiguous("affine_relu_forward", "out", out)
    check_mask("affine_relu_forward", mask)
    check_affine_relu_forward.py_func(out.shape, mask.shape, x.shape, W.shape, b.shape)
    matmul(out, x, W, epilogue="bias_relu", bias=b, mask=mask)


def affine_backward_input(dx, dout, W):
    """dx = dout @ W.T.  dx: (N, K), dout: (N, M), W: (K, M)."""
    check_floats("affine_backward_input", "dx, dout and W", dx, dout, W)
    check_c_contiguous("affine_backward_input", "dx", dx)
    check_affine_backward_input.py_func(dx.shape, dout.shape, W.shape)
    matmul(dx, dout, W, trans_b=True)


def affine_relu_backward_input(dx, dout, W, mask):
    """dx = dout @ W.T, 0 where mask (ReLU backward in the product's epilogue).

    dx: (N, K), dout: (N, M), W: (K, M), mask: (N, K) bool.
    """
    check_floats("affine_relu_backward_input", "dx, dout and W", dx, dout, W)
    check_c_contiguous("affine_relu_backward_input", "dx", dx)
    check_mask("affine_relu_backward_input", mask)
    check_affine_relu_backward_input.py_func(dx.shape, dout.shape, W.shape, mask.shape)
    matmul(dx, dout, W, trans_b=True, epilogue="relu_grad", mask=mask)


def affine_backward_params(dW, db, dout, x):
    """dW = x.T @ dout, db = dout summed over rows.  dW: (K, M), db: (M,), dout: (N, M), x: (N, K)."""
    check_floats("affine_backward_params", "dW, db, dout and x", dW, db, dout, x)
    check_c_contiguous("affine_backward_params", "dW", dW)
    check_affine_backward_params.py_func(dW.shape, db.shape, dout.shape, x.shape)
    matmul(dW, x, dout, trans_a=True)
    column_sums(db, dout)


@functools.lru_cache(maxsize=None)
def _column_sums_kernel(columns, row_groups):
    @cuda.jit
    def kernel(out, x):
        buf = cuda.shared.array((row_groups, columns), float64)
        N, M = x.shape
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        c = cuda.blockIdx.x * columns + tx
        total = 0.0
        if c < M:
            for i in range(ty, N, row_groups):
                total += x[i, c]
        buf[ty, tx] = total
        cuda.syncthreads()
        stride = row_groups // 2
        while stride > 0:
            if ty < stride:
                buf[ty, tx] += buf[ty + stride, tx]
            cuda.syncthreads()
            stride //= 2
        if ty == 0 and c < M:
            out[c] = buf[0, tx]

    return kernel


def column_sums(out, x):
    """out = x summed over rows, accumulated in float64.  out: (M,), x: (N, M).

    One block per config.COLUMN_BLOCK[0] columns (row groups: a power of two).
    """
    check_floats("column_sums", "out and x", out, x)
    check_column_sums.py_func(out.shape, x.shape)
    columns, row_groups = config.COLUMN_BLOCK
    M = x.shape[1]
    _column_sums_kernel(columns, row_groups)[-(-M // columns), (columns, row_groups)](out, x)
