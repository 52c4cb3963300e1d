"""Row-wise numerically stable softmax (twin of fastnp.kernels.cpu.softmax).

Narrow rows (C <= config.NARROW_COLUMNS, the course's 10 classes): each
block stages a tile of consecutive rows through shared memory, read and
written by the whole block with coalesced accesses (the tile is contiguous
memory), and in between one thread works on each row of the tile, the row
in registers (kernels built per C, so their loops unroll).  Measured on an
H100 (benchmarks/gpu/RESULTS.md): thread per row straight from global
memory makes every load and store of a warp touch 32 rows' cache lines;
its writes ran at half the staged kernel's speed.  Wide rows: one block per
row (grid-stride over rows), the row's max and sum reduced in shared
memory (_launch.block_reducer).  A NaN in a row makes that row NaN.
"""
import functools
import math

import numpy as np
from numba import cuda, float32, float64

from . import config
from ._launch import block_reducer, shuffle_enabled


@functools.lru_cache(maxsize=None)
def exp_shifter(C):
    """A device function (v) -> z for rows of exactly C values: v[:C] =
    exp(v - max(v)) in place, in v's dtype, and z = their sum in float64 (NaN
    for a NaN in the row).  Built per C: its loops unroll, so a local
    v: (C,) stays in registers."""

    @cuda.jit(device=True)
    def exp_shifted(v):
        m = v[0]
        for c in range(1, C):
            m = v[c] if v[c] > m else m
        z = 0.0
        for c in range(C):
            e = math.exp(v[c] - m)
            v[c] = e
            z += e
        return z

    return exp_shifted


@functools.lru_cache(maxsize=None)
def tile_stager(dtype_name, threads, per_thread):
    """A device function (buf, src, r0, n_rows, C): buf[:n_rows * C] = rows r0..
    of src (flat (N * C,)), read coalesced by the block (n_rows * C <=
    threads * per_thread).  Each thread issues all its per_thread loads
    before it stores any (they go through registers): a loop that stored
    each value as it came would wait out one memory latency per element,
    and the block would keep a single load per thread in flight."""
    dtype = float32 if dtype_name == "float32" else float64

    @cuda.jit(device=True)
    def stage(buf, src, r0, n_rows, C):
        base, n = r0 * C, n_rows * C
        tid = cuda.threadIdx.x
        vals = cuda.local.array(per_thread, dtype)  # a fixed size: unrolled into registers
        for j in range(per_thread):
            if tid + j * threads < n:
                vals[j] = src[base + tid + j * threads]
        for j in range(per_thread):
            if tid + j * threads < n:
                buf[tid + j * threads] = vals[j]

    return stage


@cuda.jit(device=True)
def unstage_rows(dst, buf, r0, n_rows, C, threads):
    """Rows r0.. of dst (flat) = buf[:n_rows * C], written coalesced by the block."""
    base = r0 * C
    for e in range(cuda.threadIdx.x, n_rows * C, threads):
        dst[base + e] = buf[e]


def rows_per_tile(threads, per_thread, C):
    """Rows of C columns a block stages at once: at most one per thread, within the tile."""
    return min(threads, threads * per_thread // C)


@functools.lru_cache(maxsize=None)
def _softmax_narrow(dtype_name, threads, per_thread, C):
    dtype = float32 if dtype_name == "float32" else float64
    tile = threads * per_thread
    stage_rows = tile_stager(dtype_name, threads, per_thread)
    exp_shifted = exp_shifter(C)

    @cuda.jit
    def kernel(out, x, N, rows):
        """out, x: flat (N * C,); rows: rows per tile (rows_per_tile)."""
        buf = cuda.shared.array(tile, dtype)
        v = cuda.local.array(C, dtype)
        tid = cuda.threadIdx.x
        for t in range(cuda.blockIdx.x, (N + rows - 1) // rows, cuda.gridDim.x):
            r0 = t * rows
            n_rows = min(rows, N - r0)
            stage_rows(buf, x, r0, n_rows, C)
            cuda.syncthreads()
            if tid < n_rows:
                o = tid * C
                for c in range(C):
                    v[c] = buf[o + c]
                # One float64 division a row, then products in x's dtype: a GPU runs
                # float64 division, and conversions between float32 and float64, at
                # a fraction of its float32 rate (16 conversions a clock per SM).
                inv_z = dtype(1.0 / exp_shifted(v))
                for c in range(C):
                    buf[o + c] = v[c] * inv_z
            cuda.syncthreads()
            unstage_rows(out, buf, r0, n_rows, C, threads)
            cuda.syncthreads()

    return kernel


@functools.lru_cache(maxsize=None)
def wide_row_exp(threads, shuffle, store):
    """A device function (out, x, i, buf) -> (m, z) run by a whole block on row i
    of a wide x: m = the row's max, z = sum of exp(x[i] - m) (float64, NaN for
    a NaN in the row), both reduced in buf; with `store` the exponentials
    also go to out[i].  Shared by the wide softmax and fused-loss kernels."""
    block_max = block_reducer(threads, shuffle, True)
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit(device=True)
    def row_exp(out, x, i, buf):
        C = x.shape[1]
        tid = cuda.threadIdx.x
        m = -math.inf
        for c in range(tid, C, threads):
            m = x[i, c] if x[i, c] > m else m
        m = block_max(buf, m)
        z = 0.0
        for c in range(tid, C, threads):
            e = math.exp(x[i, c] - m)  # NaN scores give NaN here, and so a NaN z
            if store:
                out[i, c] = e
            z += e
        return m, block_sum(buf, z)

    return row_exp


@functools.lru_cache(maxsize=None)
def _softmax_wide(threads, shuffle):
    row_exp = wide_row_exp(threads, shuffle, True)

    @cuda.jit
    def kernel(out, x):
        buf = cuda.shared.array(threads, float64)
        N, C = x.shape
        tid = cuda.threadIdx.x
        for i in range(cuda.blockIdx.x, N, cuda.gridDim.x):
            _, z = row_exp(out, x, i, buf)
            for c in range(tid, C, threads):
                out[i, c] = out[i, c] / z

    return kernel


def softmax_rows(out, x):
    """out = softmax(x) row by row.  out, x: (N, C) device arrays of one float dtype."""
    N, C = x.shape
    threads = config.THREADS
    if C <= config.NARROW_COLUMNS:
        per_thread = config.NARROW_TILE_PER_THREAD
        rows = rows_per_tile(threads, per_thread, C)
        blocks = max(1, min(-(-N // rows), config.MAX_BLOCKS))
        kernel = _softmax_narrow(np.dtype(x.dtype).name, threads, per_thread, C)
        kernel[blocks, threads](out.reshape(N * C), x.reshape(N * C), N, rows)
    else:
        kernel = _softmax_wide(threads, shuffle_enabled(threads))
        kernel[min(N, config.MAX_BLOCKS), threads](out, x)
