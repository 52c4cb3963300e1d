"""Sigmoid forward and backward on flat device arrays (twins of fastnp.kernels.cpu.sigmoid).

Launch: one thread per element, grid-stride loops (config.THREADS threads
per block, at most config.MAX_BLOCKS blocks: _launch.grid_1d); neighbouring
threads take neighbouring elements, so every access is coalesced.
"""
import math

from numba import cuda

from ._launch import grid_1d


@cuda.jit
def _sigmoid_forward(out, x):
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        v = x[i]
        e = math.exp(-abs(v))  # never above 1: no overflow for any x
        r = 1.0 / (1.0 + e)
        out[i] = r if v >= 0.0 else e * r


@cuda.jit
def _sigmoid_backward(dx, dout, out):
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        dx[i] = dout[i] * (1.0 - out[i]) * out[i]


def sigmoid_forward(out, x):
    """out = 1 / (1 + exp(-x)) without overflow.  out, x: (n,) float; NaN stays NaN."""
    blocks, threads = grid_1d(x.shape[0])
    _sigmoid_forward[blocks, threads](out, x)


def sigmoid_backward(dx, dout, out):
    """dx = dout * (1 - out) * out, out being the forward result.  All (n,) float."""
    blocks, threads = grid_1d(out.shape[0])
    _sigmoid_backward[blocks, threads](dx, dout, out)
