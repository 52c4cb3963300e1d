"""ReLU forward and backward on flat device arrays (twins of fastnp.kernels.cpu.relu).

Launch: grid-stride loops in which each thread loads ELEMENT_LOADS
elements, a grid's width apart, before it stores any (config.THREADS
threads per block, at most config.MAX_BLOCKS blocks: _launch.grid_1d);
neighbouring threads take neighbouring elements, so every access is
coalesced.
"""
from numba import cuda

from .._contracts import (
    check_floats,
    check_mask,
    check_relu_backward,
    check_relu_forward,
)
from ._launch import ELEMENT_LOADS, binary_elementwise, grid_1d, load_strided


@cuda.jit
def _relu_forward(out, mask, x):
    n, step = x.shape[0], cuda.gridsize(1)
    v = cuda.local.array(ELEMENT_LOADS, x.dtype)
    for i0 in range(cuda.grid(1), n, ELEMENT_LOADS * step):
        load_strided(v, x, i0, step)
        for u in range(ELEMENT_LOADS):
            i = i0 + u * step
            if i < n:
                dead = v[u] <= 0.0
                mask[i] = dead
                out[i] = 0.0 if dead else v[u]


@cuda.jit(device=True)
def _unless_dead(g, dead):
    return 0.0 if dead else g


_relu_backward = binary_elementwise(_unless_dead)  # (dx, dout, mask)


def relu_forward(out, mask, x):
    """out = max(x, 0); mask = (x <= 0).  out, x: (n,) float; mask: (n,) bool.

    NaN passes through.
    """
    check_floats("relu_forward", "out and x", out, x)
    check_mask("relu_forward", mask)
    check_relu_forward.py_func(out.shape, mask.shape, x.shape)
    blocks, threads = grid_1d(x.shape[0], ELEMENT_LOADS)
    _relu_forward[blocks, threads](out, mask, x)


def relu_backward(dx, dout, mask):
    """dx = dout where the input was positive, else 0.  dx, dout: (n,); mask: (n,) bool."""
    check_floats("relu_backward", "dx and dout", dx, dout)
    check_mask("relu_backward", mask)
    check_relu_backward.py_func(dx.shape, dout.shape, mask.shape)
    blocks, threads = grid_1d(dout.shape[0], ELEMENT_LOADS)
    _relu_backward[blocks, threads](dx, dout, mask)
