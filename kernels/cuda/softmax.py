"""Row-wise numerically stable softmax (twin of fastnp.kernels.cpu.softmax).

Narrow rows (C <= config.NARROW_COLUMNS, the course's 10 classes): one
thread per row, the row in registers (kernels built per C, so their loops
unroll).  A block takes tiles of one row per thread; each warp copies its
32 rows of the tile (contiguous memory) between global and shared memory
with coalesced accesses and a warp barrier (row_stager).  Measured on an
H100 (benchmarks/gpu/RESULTS.md): thread per row straight from global
memory makes every load and store of a warp touch 32 rows' cache lines;
its writes ran at half the staged kernel's speed.  Wide rows: one block per
row (grid-stride over rows), the row's max and sum reduced in shared
memory (_launch.block_reducer).  A NaN in a row makes that row NaN.
"""
import functools
import math

import numpy as np
from numba import cuda, float32, float64, uint32

from .._contracts import check_c_contiguous, check_floats, check_softmax_rows
from . import config
from ._launch import block_reducer, shuffle_enabled, simulated


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


def rows_per_tile(threads, C, dtype_name):
    """Rows of C columns that a block stages at once: one per thread, within
    config.STAGE_BYTES of shared memory per staged array."""
    return min(threads, config.STAGE_BYTES // (C * np.dtype(dtype_name).itemsize))


def stage_group(threads):
    """Threads that stage rows together in a block of `threads` (row_stager)."""
    return min(config.STAGE_GROUP, threads)


@functools.lru_cache(maxsize=None)
def row_stager(dtype_name, group, C):
    """Device functions (stage, unstage) for tiles of narrow rows, one row per
    thread: the rows of a block's tile are split among groups of `group`
    consecutive threads (a warp: config.STAGE_GROUP), and each group copies
    its `group` rows between global memory and its own part of the shared
    tile, coalesced, with a barrier of the group's threads alone.

    stage(buf, src, r0, n_rows): buf[:n_rows * C] = rows r0.. of src (flat
    (N * C,)), each group its own rows; the group then synchronizes, so each
    thread may read its row, buf[tid * C:(tid + 1) * C].
    unstage(dst, buf, r0, n_rows): the group synchronizes (its threads have
    written their rows), then copies its rows of buf to dst.  A thread moves
    the same entries of buf in both, so the next stage needs no barrier.

    A group moves group * C values, C per thread, all loads issued before any
    store (a thread that stored each value as it came would wait out one
    memory latency per value).  Every thread of the block must call these,
    each the same number of times: the CUDA simulator has no syncwarp, and
    there the group's barrier is the block's.
    """
    dtype = float32 if dtype_name == "float32" else float64
    block_barrier = simulated()

    @cuda.jit(device=True)
    def group_sync():
        if block_barrier:
            cuda.syncthreads()
        else:
            lane = cuda.threadIdx.x % 32
            cuda.syncwarp(uint32(((1 << group) - 1) << (lane - lane % group)))  # the group's lanes of its warp

    @cuda.jit(device=True)
    def group_rows(n_rows):
        """(the group's first row in the tile, its values: none past the tile's end, this thread's lane)"""
        lane = cuda.threadIdx.x % group
        first = cuda.threadIdx.x - lane
        return first, min(n_rows - first, group) * C, lane

    @cuda.jit(device=True)
    def stage(buf, src, r0, n_rows):
        first, n, lane = group_rows(n_rows)
        vals = cuda.local.array(C, dtype)  # a fixed size: unrolled into registers
        for j in range(C):
            if lane + j * group < n:
                vals[j] = src[(r0 + first) * C + lane + j * group]
        for j in range(C):
            if lane + j * group < n:
                buf[first * C + lane + j * group] = vals[j]
        group_sync()

    @cuda.jit(device=True)
    def unstage(dst, buf, r0, n_rows):
        group_sync()
        first, n, lane = group_rows(n_rows)
        for j in range(C):
            if lane + j * group < n:
                dst[(r0 + first) * C + lane + j * group] = buf[first * C + lane + j * group]

    return stage, unstage


@functools.lru_cache(maxsize=None)
def _softmax_narrow(dtype_name, rows, group, C):
    dtype = float32 if dtype_name == "float32" else float64
    tile = rows * C
    stage, unstage = row_stager(dtype_name, group, C)
    exp_shifted = exp_shifter(C)

    @cuda.jit
    def kernel(out, x, N):
        """out, x: flat (N * C,); tiles of `rows` rows, thread i on row i of each."""
        buf = cuda.shared.array(tile, dtype)
        v = cuda.local.array(C, dtype)
        tid = cuda.threadIdx.x
        for t in range(cuda.blockIdx.x, (N + rows - 1) // rows, cuda.gridDim.x):
            r0 = t * rows
            n_rows = min(rows, N - r0)
            stage(buf, x, r0, n_rows)
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
            unstage(out, buf, r0, n_rows)  # out may be x: the group read its rows first

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
    check_floats("softmax_rows", "out and x", out, x)
    check_c_contiguous("softmax_rows", "out and x", out, x)
    check_softmax_rows.py_func(out.shape, x.shape)
    N, C = x.shape
    if C <= config.NARROW_COLUMNS:
        threads = config.ROW_THREADS
        rows = rows_per_tile(threads, C, x.dtype)
        blocks = max(1, min(-(-N // rows), config.MAX_BLOCKS))
        kernel = _softmax_narrow(np.dtype(x.dtype).name, rows, stage_group(threads), C)
        kernel[blocks, threads](out.reshape(N * C), x.reshape(N * C), N)
    else:
        threads = config.THREADS
        kernel = _softmax_wide(threads, shuffle_enabled(threads))
        kernel[min(N, config.MAX_BLOCKS), threads](out, x)
