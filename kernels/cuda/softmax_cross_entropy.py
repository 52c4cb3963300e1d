"""Fused softmax + cross-entropy: the loss and its gradient in one pass over
the scores (twin of fastnp.kernels.cpu.softmax_cross_entropy).

Launch: as softmax_rows (narrow rows one per thread, the row in registers,
staged through shared memory by warps; one block per wide row), with at
most config.PARTIAL_MAX_BLOCKS blocks; the narrow loss-only kernel reads
each row straight into registers, no staging.  Each thread keeps its rows'
loss in float64, each block reduces its threads' sums in shared memory into
one per-block partial, and the last block to finish adds the partials in a
fixed order (_launch.last_block_finisher): one launch, the loss is the same
on every run, and it can stay on the device (training loops write it
straight into their cost history).

Targets come as (N, C) rows or as (N,) integer labels; labels are read one
per row (a tenth of the bytes at 10 classes, no staging).  The loss-only
variant (softmax_cross_entropy_loss) writes no gradient: with labels it
moves little more than the scores themselves.
"""
import functools
import math

import numpy as np
from numba import cuda, float32, float64, int32, uint64
from numba.cuda import libdevice

from .._contracts import (
    check_c_contiguous,
    check_fused_loss_dtypes,
    check_softmax_cross_entropy,
    check_softmax_cross_entropy_loss,
    check_softmax_cross_entropy_loss_to,
    check_softmax_cross_entropy_rows,
    check_softmax_cross_entropy_to,
)
from ..cpu.softmax_cross_entropy import target_weight as cpu_target_weight
from . import config
from ._launch import block_reducer, done_counter, last_block_finisher, scratch, shuffle_enabled, simulated
from .cross_entropy import LOG_GUARD
from .softmax import exp_shifter, row_stager, rows_per_tile, stage_group, wide_row_exp

#: t[i, c] for (N, C) targets, 1.0 or 0.0 for (N,) labels: the CPU twin's function, compiled for the device.
target_weight = cuda.jit(device=True)(cpu_target_weight.py_func)


@functools.lru_cache(maxsize=None)
def _narrow(dtype_name, threads, rows, group, C, shuffle, labels, with_grad, pairs):
    """The narrow-row kernel: tiles of `rows` rows, one per thread.  With
    with_grad the tiles are staged through shared memory by groups of
    `group` threads (softmax.row_stager: coalesced loads, and coalesced
    stores of the gradient).  The loss-only kernel writes nothing, and each
    thread reads its row straight from global memory into registers (on an
    H100, 25.7 us against 39-42 staged at 10^6 x 10 float32; RESULTS.md run 12);
    with `pairs` (float32 rows of an even length, 8-byte aligned) it reads
    them as 8-byte words, two scores each, half the load instructions.
    Every variant gives each thread the same rows, added in the same order,
    so the loss-only kernel gives the fused kernel's bits."""
    block_sum = block_reducer(threads, shuffle, False)
    dtype = float32 if dtype_name == "float32" else float64
    staged = with_grad
    tile = rows * C if staged else 1
    target_tile = tile if staged and not labels else 1  # labels are read straight from global memory
    stage, unstage = row_stager(dtype_name, group, C)
    exp_shifted = exp_shifter(C)
    finish = last_block_finisher(threads, shuffle)
    words = C // 2

    @cuda.jit
    def kernel(out, k_out, loss_scale, partial, done, dx, x, t, scale, N):
        """out[k_out] = loss_scale * the sum of the row losses; dx, x: flat
        (N * C,) (with pairs, x: the scores' bytes as (N * C / 2,) int64);
        t: flat (N * C,) targets or (N,) labels.  Without with_grad, dx is
        not touched."""
        xs = cuda.shared.array(tile, dtype)  # the scores, then the gradient
        ts = cuda.shared.array(target_tile, dtype)
        buf = cuda.shared.array(threads, float64)
        v = cuda.local.array(C, dtype)  # this thread's row
        tid = cuda.threadIdx.x
        total = 0.0
        for k in range(cuda.blockIdx.x, (N + rows - 1) // rows, cuda.gridDim.x):
            r0 = k * rows
            n_rows = min(rows, N - r0)
            label = t[r0 + tid] if labels and tid < n_rows else -1  # in flight with the tile's loads
            if staged:
                stage(xs, x, r0, n_rows)
                if not labels:
                    stage(ts, t, r0, n_rows)
            if tid < n_rows:
                o = tid * C  # the row in the tile
                g = (r0 + tid) * C  # the row in global memory
                if pairs:
                    w0 = uint64((r0 + tid) * words)  # unsigned: no wraparound code for negative indices
                    for j in range(words):  # little-endian: the low half is the first score
                        w = x[w0 + uint64(j)]
                        v[2 * j] = libdevice.int_as_float(int32(w & 0xFFFFFFFF))
                        v[2 * j + 1] = libdevice.int_as_float(int32(w >> 32))
                else:
                    for c in range(C):
                        v[c] = xs[o + c] if staged else x[g + c]
                z = exp_shifted(v)
                if labels and not 0 <= label < C:
                    z = math.nan
                if z != z:  # a NaN score or a bad label: the loss is NaN whatever the targets
                    total += z
                inv_z = 1.0 / z
                # The row's loss takes one float64 log per non-zero target.  Taken
                # inside the column loop, a warp would run the log at every column
                # where any of its 32 rows has its target (up to C logs a row);
                # instead the loop picks the target's exponential and one log
                # follows, with the bits of the loop's.
                if labels:
                    v_label = dtype(0.0)  # v[label] (never indexed by label, which would put v in local memory)
                    for c in range(C):
                        y = 1.0 if label == c else 0.0
                        if with_grad:
                            xs[o + c] = (v[c] * inv_z - y) * scale
                        v_label = max(v_label, v[c] * dtype(y))  # exponentials are >= 0: in x's dtype, exactly
                    total -= math.log(v_label * inv_z + LOG_GUARD)
                else:
                    hits = 0
                    v_hit = v[0]
                    y_hit = 0.0
                    for c in range(C):
                        y = ts[o + c] if staged else t[g + c]
                        if with_grad:
                            xs[o + c] = (v[c] * inv_z - y) * scale
                        if y != 0.0:
                            hits += 1
                            v_hit = v[c]
                            y_hit = y
                    if hits == 1:
                        total -= y_hit * math.log(v_hit * inv_z + LOG_GUARD)
                    elif hits > 1:  # soft targets: a log per non-zero target, in column order
                        for c in range(C):
                            y = ts[o + c] if staged else t[g + c]
                            if y != 0.0:
                                total -= y * math.log(v[c] * inv_z + LOG_GUARD)
            if with_grad:
                unstage(dx, xs, r0, n_rows)  # dx may be x: the group read its rows first
        finish(out, k_out, loss_scale, partial, done, block_sum(buf, total), buf)

    return kernel


@functools.lru_cache(maxsize=None)
def _wide(dtype_name, threads, shuffle, with_grad):
    row_exp = wide_row_exp(threads, shuffle, with_grad)
    block_sum = block_reducer(threads, shuffle, False)
    finish = last_block_finisher(threads, shuffle)
    dtype = float32 if dtype_name == "float32" else float64

    @cuda.jit
    def kernel(out, k_out, loss_scale, partial, done, dx, x, t, scale):
        """dx, x: (N, C); t: (N, C) targets or (N,) labels.  Without with_grad,
        dx is not touched and the exponentials are recomputed instead,
        rounded to x's dtype as the stored ones are (the same loss bits)."""
        buf = cuda.shared.array(threads, float64)
        N, C = x.shape
        tid = cuda.threadIdx.x
        total = 0.0  # meaningful in thread 0 only
        for i in range(cuda.blockIdx.x, N, cuda.gridDim.x):
            m, z = row_exp(dx, x, i, buf)
            if t.ndim == 1 and not 0 <= t[i] < C:
                z = math.nan
            inv_z = 1.0 / z
            row = 0.0
            for c in range(tid, C, threads):
                p = (dx[i, c] if with_grad else dtype(math.exp(x[i, c] - m))) * inv_z
                y = target_weight(t, i, c)
                if with_grad:
                    dx[i, c] = (p - y) * scale
                if y != 0.0:
                    row -= y * math.log(p + LOG_GUARD)
            row = block_sum(buf, row)
            if z != z:
                row += z
            total += row
        finish(out, k_out, loss_scale, partial, done, total, buf)

    return kernel


def _launch_rows(out, k, loss_scale, dx, x, t, scale, with_grad=True):
    """out[k] = loss_scale * the sum of the row losses, by the narrow or wide
    kernel (one launch); dx = (softmax(x) - t) * scale unless not with_grad."""
    N, C = x.shape
    labels = t.ndim == 1
    if C <= config.NARROW_COLUMNS:
        threads = config.ROW_THREADS
        shuffle = shuffle_enabled(threads)
        rows = rows_per_tile(threads, C, x.dtype)  # the same for every variant: the same bits
        blocks = max(1, min(-(-N // rows), config.PARTIAL_MAX_BLOCKS))
        flat = x.reshape(N * C)
        # Two float32 scores per 8-byte load; not in the simulator, which has no libdevice.
        # (The simulator's arrays have no device pointer: ask it first.)
        pairs = (config.LOSS_PAIR_READS and not with_grad and x.dtype == np.float32 and C % 2 == 0
                 and N > 0 and not simulated() and flat.device_ctypes_pointer.value % 8 == 0)
        kernel = _narrow(np.dtype(x.dtype).name, threads, rows, stage_group(threads), C, shuffle, labels, with_grad,
                         pairs)
        kernel[blocks, threads](out, k, loss_scale, scratch("partial", blocks), done_counter(), dx.reshape(N * C),
                                flat.view(np.int64) if pairs else flat, t if labels else t.reshape(N * C), scale, N)
    else:
        threads = config.THREADS
        blocks = min(N, config.PARTIAL_MAX_BLOCKS)
        kernel = _wide(np.dtype(x.dtype).name, threads, shuffle_enabled(threads), with_grad)
        kernel[blocks, threads](out, k, loss_scale, scratch("partial", blocks), done_counter(), dx, x, t, scale)


def softmax_cross_entropy_to(loss, k, dx, x, t):
    """loss[k] = mean cross-entropy of softmax(x) against t, on the device; dx as in
    softmax_cross_entropy.  loss: (n,) float64 device array.  Nothing waits
    for the device: for training loops that keep their costs there."""
    check_fused_loss_dtypes("softmax_cross_entropy_to", x, t, dx, loss)
    check_c_contiguous("softmax_cross_entropy_to", "dx, x and t", dx, x, t)
    check_softmax_cross_entropy_to.py_func(loss.shape, k, dx.shape, x.shape, t.shape)
    N = x.shape[0]
    _launch_rows(loss, k, 1.0 / N, dx, x, t, 1.0 / N)


def softmax_cross_entropy_rows(dx, x, t, n_total, lo, hi):
    """Rows lo..hi: dx = (softmax(x) - t) / n_total; returns the sum of the row losses.

    dx, x: (N, C) device arrays of one float dtype (dx may be x); t: (N, C)
    targets of that dtype or (N,) integer labels.  Row loss = -sum_c t[c] *
    log(softmax(x)[c] + 1e-9), in float64; a label outside [0, C) makes its row NaN.
    """
    check_fused_loss_dtypes("softmax_cross_entropy_rows", x, t, dx)
    check_c_contiguous("softmax_cross_entropy_rows", "dx, x and t", dx, x, t)
    check_softmax_cross_entropy_rows.py_func(dx.shape, x.shape, t.shape, lo, hi)
    out = scratch("scalar", 1)
    _launch_rows(out, 0, 1.0, dx[lo:hi], x[lo:hi], t[lo:hi], 1.0 / n_total)
    return float(out.copy_to_host()[0])


def softmax_cross_entropy(dx, x, t):
    """Mean cross-entropy of softmax(x) against t as a float; writes its gradient
    (softmax(x) - t) / N into dx.  dx, x: (N, C) device arrays of one float
    dtype; t: (N, C) targets of that dtype or (N,) integer labels."""
    check_fused_loss_dtypes("softmax_cross_entropy", x, t, dx)
    check_c_contiguous("softmax_cross_entropy", "dx, x and t", dx, x, t)
    check_softmax_cross_entropy.py_func(dx.shape, x.shape, t.shape)
    loss = scratch("scalar", 1)
    _launch_rows(loss, 0, 1.0 / x.shape[0], dx, x, t, 1.0 / x.shape[0])
    return float(loss.copy_to_host()[0])


def softmax_cross_entropy_loss_to(loss, k, x, t):
    """loss[k] = softmax_cross_entropy_loss(x, t), left on the device (nothing waits)."""
    check_fused_loss_dtypes("softmax_cross_entropy_loss_to", x, t, loss=loss)
    check_c_contiguous("softmax_cross_entropy_loss_to", "x and t", x, t)
    check_softmax_cross_entropy_loss_to.py_func(loss.shape, k, x.shape, t.shape)
    N = x.shape[0]
    _launch_rows(loss, k, 1.0 / N, x, x, t, 1.0 / N, with_grad=False)


def softmax_cross_entropy_loss(x, t):
    """softmax_cross_entropy's loss alone as a float: no gradient is written.

    x: (N, C) device array; t: (N, C) targets of x's dtype or (N,) integer
    labels.  With labels it reads the scores and one integer per row.
    """
    check_fused_loss_dtypes("softmax_cross_entropy_loss", x, t)
    check_c_contiguous("softmax_cross_entropy_loss", "x and t", x, t)
    check_softmax_cross_entropy_loss.py_func(x.shape, t.shape)
    loss = scratch("scalar", 1)
    _launch_rows(loss, 0, 1.0 / x.shape[0], x, x, t, 1.0 / x.shape[0], with_grad=False)
    return float(loss.copy_to_host()[0])
