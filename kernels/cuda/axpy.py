"""In-place scaled additions and the L2 sum (twins of fastnp.kernels.cpu.axpy).

Launch: one thread per element, grid-stride loops (config.THREADS threads
per block, at most config.MAX_BLOCKS blocks: _launch.grid_1d); neighbouring
threads take neighbouring elements, so every access is coalesced.
"""
import functools

from numba import cuda, float64

from .._contracts import check_add_scaled, check_axpy, check_floats
from ._launch import block_reducer, grid_1d, scalar_result, shuffle_enabled


@cuda.jit
def _axpy(y, alpha, x):
    for i in range(cuda.grid(1), y.shape[0], cuda.gridsize(1)):
        y[i] += alpha * x[i]


@cuda.jit
def _add_scaled(out, x, alpha, y):
    for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[i] = x[i] + alpha * y[i]


def axpy(y, alpha, x):
    """y += alpha * x, in place (the SGD update).  y, x: (n,) of one float dtype."""
    check_floats("axpy", "y and x", y, x)
    check_axpy.py_func(y.shape, x.shape)
    blocks, threads = grid_1d(y.shape[0])
    _axpy[blocks, threads](y, alpha, x)


def add_scaled(out, x, alpha, y):
    """out = x + alpha * y.  out, x, y: (n,) of one float dtype."""
    check_floats("add_scaled", "out, x and y", out, x, y)
    check_add_scaled.py_func(out.shape, x.shape, y.shape)
    blocks, threads = grid_1d(out.shape[0])
    _add_scaled[blocks, threads](out, x, alpha, y)


@functools.lru_cache(maxsize=None)
def _sum_of_squares_kernel(threads, shuffle):
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(partial, x):
        buf = cuda.shared.array(threads, float64)
        total = 0.0
        for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
            v = float64(x[i])
            total += v * v
        total = block_sum(buf, total)
        if cuda.threadIdx.x == 0:
            partial[cuda.blockIdx.x] = total

    return kernel


def sum_of_squares(x):
    """sum(x**2) in float64, as a float.  x: (n,) float.

    Grid-stride partial sums per thread, a block reduction per block, then
    one block adds the per-block results in a fixed order (the same bits on
    every run).
    """
    check_floats("sum_of_squares", "x", x)
    blocks, threads = grid_1d(x.shape[0])
    kernel = _sum_of_squares_kernel(threads, shuffle_enabled(threads))
    return scalar_result(lambda partial: kernel[blocks, threads](partial, x), blocks)
