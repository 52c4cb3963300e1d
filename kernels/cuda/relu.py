"""ReLU forward and backward on flat device arrays (twins of fastnp.kernels.cpu.relu).

Launch: one thread per element, grid-stride loops (config.THREADS threads
per block, at most config.MAX_BLOCKS blocks: _launch.grid_1d); neighbouring
threads take neighbouring elements, so every access is coalesced.
"""
from numba import cuda

from ._launch import grid_1d


@cuda.jit
def _relu_forward(out, mask, x):
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        dead = x[i] <= 0.0
        mask[i] = dead
        out[i] = 0.0 if dead else x[i]


@cuda.jit
def _relu_backward(dx, dout, mask):
    for i in range(cuda.grid(1), dout.shape[0], cuda.gridsize(1)):
        dx[i] = 0.0 if mask[i] else dout[i]


def relu_forward(out, mask, x):
    """out = max(x, 0); mask = (x <= 0).  out, x: (n,) float; mask: (n,) bool.

    One thread per element, grid-stride (config.THREADS per block); NaN
    passes through.
    """
    blocks, threads = grid_1d(x.shape[0])
    _relu_forward[blocks, threads](out, mask, x)


def relu_backward(dx, dout, mask):
    """dx = dout where the input was positive, else 0.  dx, dout: (n,); mask: (n,) bool."""
    blocks, threads = grid_1d(dout.shape[0])
    _relu_backward[blocks, threads](dx, dout, mask)
