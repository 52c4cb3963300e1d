"""Row-wise numerically stable softmax (twin of fastnp.kernels.cpu.softmax).

Narrow rows (C <= config.NARROW_COLUMNS, the course's 10 classes): one
thread per row, grid-stride; a warp's 32 rows are consecutive memory, so its
loads use whole cache lines.  Wide rows: one block per row (grid-stride over
rows), the row's max and sum reduced in shared memory (_launch.block_reducer).
A NaN in a row makes that row NaN.
"""
import functools
import math

from numba import cuda, float64

from . import config
from ._launch import block_reducer, grid_1d, shuffle_enabled


@cuda.jit
def _softmax_narrow(out, x):
    N, C = x.shape
    for i in range(cuda.grid(1), N, cuda.gridsize(1)):
        m = x[i, 0]
        for c in range(1, C):
            m = x[i, c] if x[i, c] > m else m
        z = 0.0
        for c in range(C):
            e = math.exp(x[i, c] - m)
            out[i, c] = e
            z += e
        for c in range(C):
            out[i, c] = out[i, c] / z


@functools.lru_cache(maxsize=None)
def _softmax_wide(threads, shuffle):
    block_max = block_reducer(threads, shuffle, True)
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(out, x):
        buf = cuda.shared.array(threads, float64)
        N, C = x.shape
        tid = cuda.threadIdx.x
        for i in range(cuda.blockIdx.x, N, cuda.gridDim.x):
            m = -math.inf
            for c in range(tid, C, threads):
                m = x[i, c] if x[i, c] > m else m
            m = block_max(buf, m)
            z = 0.0
            for c in range(tid, C, threads):
                e = math.exp(x[i, c] - m)  # NaN scores give NaN here, and so a NaN z
                out[i, c] = e
                z += e
            z = block_sum(buf, z)
            for c in range(tid, C, threads):
                out[i, c] = out[i, c] / z

    return kernel


def softmax_rows(out, x):
    """out = softmax(x) row by row.  out, x: (N, C) device arrays of one float dtype."""
    N, C = x.shape
    if C <= config.NARROW_COLUMNS:
        blocks, threads = grid_1d(N)
        _softmax_narrow[blocks, threads](out, x)
    else:
        threads = config.THREADS
        _softmax_wide(threads, shuffle_enabled(threads))[min(N, config.MAX_BLOCKS), threads](out, x)
