"""Launch helpers shared by the CUDA kernels: grid sizes, block reductions,
and the deterministic sum of per-block partial results."""
import functools

import numpy as np
from numba import cuda, float64

from . import config


def simulated():
    """True under NUMBA_ENABLE_CUDASIM=1 (the CUDA simulator runs kernels in Python threads)."""
    from numba.cuda.core import config as cuda_config

    return bool(cuda_config.ENABLE_CUDASIM)


#: Elements each thread of the elementwise kernels (relu, sigmoid) loads
#: before it computes or stores any.  With one 4-byte load in flight per
#: thread, an H100 ran sigmoid on 10^7 float32 in 45.5 us (1.8 TB/s read
#: plus written; torch 30 us); with 4, in 34.8 us (runs 15-17).
ELEMENT_LOADS = 4


@cuda.jit(device=True)
def load_strided(vals, x, i0, step):
    """vals[u] = x[i0 + u * step] for u < ELEMENT_LOADS, where in range: one
    pass of an elementwise kernel's grid-stride loop, its loads issued
    together.  vals: a local (ELEMENT_LOADS,) array (in registers)."""
    for u in range(ELEMENT_LOADS):
        if i0 + u * step < x.shape[0]:
            vals[u] = x[i0 + u * step]


@functools.lru_cache(maxsize=None)
def binary_elementwise(op):
    """A kernel (out, a, b) with out[i] = op(a[i], b[i]) for every i, all
    (n,) arrays (op: a device function).  Grid-stride, each thread loading
    ELEMENT_LOADS elements of each input (load_strided) before it stores any."""

    @cuda.jit
    def kernel(out, a, b):
        n, step = a.shape[0], cuda.gridsize(1)
        va = cuda.local.array(ELEMENT_LOADS, a.dtype)
        vb = cuda.local.array(ELEMENT_LOADS, b.dtype)
        for i0 in range(cuda.grid(1), n, ELEMENT_LOADS * step):
            load_strided(va, a, i0, step)
            load_strided(vb, b, i0, step)
            for u in range(ELEMENT_LOADS):
                i = i0 + u * step
                if i < n:
                    out[i] = op(va[u], vb[u])

    return kernel


def grid_1d(n, per_thread=1):
    """(blocks, threads) for a grid-stride loop over n items, per_thread of them per thread and pass."""
    threads = config.THREADS
    return max(1, min(-(-n // (threads * per_thread)), config.MAX_BLOCKS)), threads


def shuffle_enabled(threads):
    """Whether block reductions of `threads` threads end with warp shuffles."""
    return config.WARP_SHUFFLE and threads >= 32 and not simulated()


@functools.lru_cache(maxsize=None)
def block_reducer(threads, shuffle, use_max):
    """A device function (buf, value) -> sum (or max) of value over a 1-D block.

    buf: a shared (threads,) float64 array; every thread of the block must
    call it and gets the result.  A shared-memory tree, halving with a block
    barrier per step; with `shuffle` the last five halvings (32 values left)
    run inside the first warp with shfl_down_sync instead.  threads: a power
    of two.  max follows `a if a > b else b`, so NaNs are dropped: callers
    that must propagate NaN do so through the values they compute next.
    """
    first_warp_steps = shuffle and threads >= 32
    stop = 32 if first_warp_steps else 1

    @cuda.jit(device=True)
    def combine(a, b):
        if use_max:
            return a if a > b else b
        return a + b

    @cuda.jit(device=True)
    def reduce(buf, value):
        tid = cuda.threadIdx.x
        buf[tid] = value
        cuda.syncthreads()
        stride = threads // 2
        while stride >= stop:
            if tid < stride:
                buf[tid] = combine(buf[tid], buf[tid + stride])
            cuda.syncthreads()
            stride //= 2
        if first_warp_steps:
            if tid < 32:
                v = buf[tid]
                offset = 16
                while offset > 0:
                    v = combine(v, cuda.shfl_down_sync(0xFFFFFFFF, v, offset))
                    offset //= 2
                if tid == 0:
                    buf[0] = v
            cuda.syncthreads()
        result = buf[0]
        cuda.syncthreads()  # buf is free again for the caller's next reduction
        return result

    return reduce


#: Partials each thread of the summing block loads at once (see partials_adder).
PARTIAL_LOADS = 8


@functools.lru_cache(maxsize=None)
def partials_adder(threads, shuffle):
    """A device function (partial, buf) -> sum of partial, run by a whole block.

    Each thread adds partial[tid], partial[tid + threads], ... in that
    order, PARTIAL_LOADS loads issued before the first add (one block
    waiting out a memory latency per partial was most of the cost), then
    the block adds its threads' sums: the order depends only on the number
    of partials and `threads`, so the sum is the same on every run.
    """
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit(device=True)
    def add(partial, buf):
        vals = cuda.local.array(PARTIAL_LOADS, float64)
        tid = cuda.threadIdx.x
        P = partial.shape[0]
        total = 0.0
        for start in range(0, P, threads * PARTIAL_LOADS):
            for j in range(PARTIAL_LOADS):
                i = start + j * threads + tid
                vals[j] = partial[i] if i < P else 0.0
            for j in range(PARTIAL_LOADS):
                total += vals[j]
        return block_sum(buf, total)

    return add


@functools.lru_cache(maxsize=None)
def _sum_partials_kernel(threads, shuffle):
    add = partials_adder(threads, shuffle)

    @cuda.jit
    def kernel(out, k, partial, scale):
        buf = cuda.shared.array(threads, float64)
        total = add(partial, buf)
        if cuda.threadIdx.x == 0:
            out[k] = total * scale

    return kernel


@functools.lru_cache(maxsize=None)
def last_block_finisher(threads, shuffle):
    """A device function (out, k, scale, partial, done, block_total, buf) that
    every thread of every block calls at its end: the block's total goes to
    partial[blockIdx.x], and the last block to finish adds all partials
    (partials_adder: the same order, so the same bits, as sum_partials)
    into out[k] = scale * sum.  One launch instead of a kernel and
    sum_partials.

    done: a (1,) uint32 device array holding 0 (done_counter()); the last
    block sets it back to 0.  The fence makes a block's partial visible to
    every other block before the counter says it is there.
    """
    add = partials_adder(threads, shuffle)

    @cuda.jit(device=True)
    def finish(out, k, scale, partial, done, block_total, buf):
        tid = cuda.threadIdx.x
        if tid == 0:
            partial[cuda.blockIdx.x] = block_total
            cuda.threadfence()
            last = cuda.atomic.add(done, 0, 1) == cuda.gridDim.x - 1
            buf[0] = 1.0 if last else 0.0
        cuda.syncthreads()
        last = buf[0] != 0.0
        cuda.syncthreads()
        if last:
            cuda.threadfence()
            total = add(partial[:cuda.gridDim.x], buf)
            if tid == 0:
                out[k] = total * scale
                done[0] = 0

    return finish


def done_counter():
    """The (1,) uint32 device counter of last_block_finisher, made once per
    CUDA context, 0 between launches."""
    kept = kept_buffers()
    if "done" not in kept:
        kept["done"] = cuda.to_device(np.zeros(1, np.uint32))
    return kept["done"]


def sum_partials(out, k, partial, scale):
    """out[k] = scale * sum(partial), on the device, in one block.

    out: (n,) float64, partial: (P,) float64 per-block results.  The order
    of the additions depends only on P and config.THREADS, so a result is
    the same on every run.
    """
    threads = config.THREADS
    _sum_partials_kernel(threads, shuffle_enabled(threads))[1, threads](out, k, partial, scale)


_SIMULATOR_KEPT = {}


def kept_buffers():
    """The dict of device buffers the kernels keep between calls, one per CUDA
    context (in numba's context.extras, as fastnp.cuda_pool keeps its
    cache): a buffer made on one GPU is never used on another, and
    numba.cuda.close() drops them with their context.  The simulator's one
    fake context has no extras: a module-level dict there."""
    extras = getattr(cuda.current_context(), "extras", None)
    if extras is None:
        return _SIMULATOR_KEPT
    return extras.setdefault("fastnp.kernels.cuda", {})


def reused_buffer(key, size, dtype, at_least=1):
    """A (size,) device work buffer of dtype, kept between calls under `key`
    and grown when a call needs more (to at least `at_least` elements).

    Allocating device memory costs far more than a small kernel.  Reuse is
    safe because every kernel here runs in order on the default stream: a
    later launch cannot overwrite a buffer before an earlier one has read it.
    """
    kept = kept_buffers()
    buf = kept.get(key)
    if buf is None or buf.shape[0] < size:
        buf = kept[key] = cuda.device_array(max(size, at_least), dtype)
    return buf[:size]


def scratch(name, n):
    """A (n,) float64 device work buffer kept under `name` (reused_buffer):
    the per-block partial sums and scalar results."""
    return reused_buffer(("scratch", name), n, np.float64, at_least=1024)


def scalar_result(launch, blocks):
    """Run launch(partial) with a (blocks,) float64 buffer of per-block
    results and return their sum as a Python float (waits for the device)."""
    partial = scratch("partial", blocks)
    out = scratch("scalar", 1)
    launch(partial)
    sum_partials(out, 0, partial, 1.0)
    return float(out.copy_to_host()[0])
