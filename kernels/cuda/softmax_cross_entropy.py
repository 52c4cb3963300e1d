"""Fused softmax + cross-entropy: the loss and its gradient in one pass over
the scores (twin of fastnp.kernels.cpu.softmax_cross_entropy).

Launch: as softmax_rows (one thread per narrow row, one block per wide
row).  Each thread keeps its rows' loss in float64, each block reduces its
threads' sums in shared memory into one per-block partial, and one more
block adds the partials in a fixed order (_launch.sum_partials): the loss
is the same on every run, and it can stay on the device (training loops
write it straight into their cost history).
"""
import functools
import math

from numba import cuda, float64

from . import config
from ._launch import block_reducer, grid_1d, scratch, shuffle_enabled, sum_partials
from .cross_entropy import LOG_GUARD


@functools.lru_cache(maxsize=None)
def _narrow(threads, shuffle):
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(partial, dx, x, t, scale):
        buf = cuda.shared.array(threads, float64)
        N, C = x.shape
        total = 0.0
        for i in range(cuda.grid(1), N, cuda.gridsize(1)):
            m = x[i, 0]
            for c in range(1, C):
                m = x[i, c] if x[i, c] > m else m
            z = 0.0
            for c in range(C):
                e = math.exp(x[i, c] - m)
                dx[i, c] = e  # dx may be x: each element is read before it is written
                z += e
            if z != z:  # a NaN score: the loss is NaN whatever the targets
                total += z
            inv_z = 1.0 / z
            for c in range(C):
                p = dx[i, c] * inv_z
                y = t[i, c]
                dx[i, c] = (p - y) * scale
                if y != 0.0:  # one log per row for one-hot targets
                    total -= y * math.log(p + LOG_GUARD)
        total = block_sum(buf, total)
        if cuda.threadIdx.x == 0:
            partial[cuda.blockIdx.x] = total

    return kernel


@functools.lru_cache(maxsize=None)
def _wide(threads, shuffle):
    block_max = block_reducer(threads, shuffle, True)
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(partial, dx, x, t, scale):
        buf = cuda.shared.array(threads, float64)
        N, C = x.shape
        tid = cuda.threadIdx.x
        total = 0.0  # meaningful in thread 0 only
        for i in range(cuda.blockIdx.x, N, cuda.gridDim.x):
            m = -math.inf
            for c in range(tid, C, threads):
                m = x[i, c] if x[i, c] > m else m
            m = block_max(buf, m)
            z = 0.0
            for c in range(tid, C, threads):
                e = math.exp(x[i, c] - m)
                dx[i, c] = e
                z += e
            z = block_sum(buf, z)
            inv_z = 1.0 / z
            row = 0.0
            for c in range(tid, C, threads):
                p = dx[i, c] * inv_z
                y = t[i, c]
                dx[i, c] = (p - y) * scale
                if y != 0.0:
                    row -= y * math.log(p + LOG_GUARD)
            row = block_sum(buf, row)
            if z != z:
                row += z
            total += row
        if tid == 0:
            partial[cuda.blockIdx.x] = total

    return kernel


def _launch_rows(partial_of, dx, x, t, scale):
    """Run the narrow or wide kernel; returns (partial, blocks) with partial the per-block sums."""
    N, C = x.shape
    threads = config.THREADS
    shuffle = shuffle_enabled(threads)
    if C <= config.NARROW_COLUMNS:
        blocks, _ = grid_1d(N)
        kernel = _narrow(threads, shuffle)
    else:
        blocks = min(N, config.MAX_BLOCKS)
        kernel = _wide(threads, shuffle)
    partial = partial_of(blocks)
    kernel[blocks, threads](partial, dx, x, t, scale)
    return partial


def softmax_cross_entropy_to(loss, k, dx, x, t):
    """loss[k] = mean cross-entropy of softmax(x) against t, on the device; dx as in
    softmax_cross_entropy.  loss: (n,) float64 device array.  Nothing waits
    for the device: for training loops that keep their costs there."""
    N = x.shape[0]
    partial = _launch_rows(lambda blocks: scratch("partial", blocks), dx, x, t, 1.0 / N)
    sum_partials(loss, k, partial, 1.0 / N)


def softmax_cross_entropy_rows(dx, x, t, n_total, lo, hi):
    """Rows lo..hi: dx = (softmax(x) - t) / n_total; returns the sum of the row losses.

    dx, x, t: (N, C) device arrays of one float dtype (dx may be x).  Row
    loss = -sum_c t[c] * log(softmax(x)[c] + 1e-9), in float64.
    """
    out = scratch("scalar", 1)
    partial = _launch_rows(lambda blocks: scratch("partial", blocks), dx[lo:hi], x[lo:hi], t[lo:hi], 1.0 / n_total)
    sum_partials(out, 0, partial, 1.0)
    return float(out.copy_to_host()[0])


def softmax_cross_entropy(dx, x, t):
    """Mean cross-entropy of softmax(x) against t as a float; writes its gradient
    (softmax(x) - t) / N into dx.  dx, x, t: (N, C) device arrays, one float dtype."""
    loss = scratch("scalar", 1)
    softmax_cross_entropy_to(loss, 0, dx, x, t)
    return float(loss.copy_to_host()[0])
