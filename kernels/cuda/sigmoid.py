"""Sigmoid forward and backward on flat device arrays (twins of fastnp.kernels.cpu.sigmoid).

Launch: as relu's (each thread loads ELEMENT_LOADS elements before it
stores any).
"""
import math

from numba import cuda

from .._contracts import check_floats, check_sigmoid_backward, check_sigmoid_forward
from ._launch import ELEMENT_LOADS, binary_elementwise, grid_1d, load_strided


@cuda.jit
def _sigmoid_forward(out, x):
    n, step = x.shape[0], cuda.gridsize(1)
    v = cuda.local.array(ELEMENT_LOADS, x.dtype)
    for i0 in range(cuda.grid(1), n, ELEMENT_LOADS * step):
        load_strided(v, x, i0, step)
        for u in range(ELEMENT_LOADS):
            i = i0 + u * step
            if i < n:
                e = math.exp(-abs(v[u]))  # never above 1: no overflow for any x
                r = 1.0 / (1.0 + e)
                out[i] = r if v[u] >= 0.0 else e * r


@cuda.jit(device=True)
def _through_sigmoid(g, y):
    return g * (1.0 - y) * y


_sigmoid_backward = binary_elementwise(_through_sigmoid)  # (dx, dout, out)


def sigmoid_forward(out, x):
    """out = 1 / (1 + exp(-x)) without overflow.  out, x: (n,) float; NaN stays NaN."""
    check_floats("sigmoid_forward", "out and x", out, x)
    check_sigmoid_forward.py_func(out.shape, x.shape)
    blocks, threads = grid_1d(x.shape[0], ELEMENT_LOADS)
    _sigmoid_forward[blocks, threads](out, x)


def sigmoid_backward(dx, dout, out):
    """dx = dout * (1 - out) * out, out being the forward result.  All (n,) float."""
    check_floats("sigmoid_backward", "dx, dout and out", dx, dout, out)
    check_sigmoid_backward.py_func(dx.shape, dout.shape, out.shape)
    blocks, threads = grid_1d(out.shape[0], ELEMENT_LOADS)
    _sigmoid_backward[blocks, threads](dx, dout, out)
