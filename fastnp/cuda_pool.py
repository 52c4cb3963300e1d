"""Cached device memory for numba-cuda, as torch's caching allocator.

Why: the layers allocate their outputs on every call, as numpy code does.
numba's default manager turns each device allocation into cuMemAlloc and
each free into a queued cuMemFree, flushed every 10 frees; cuMemFree
waits for the device, so a training step that allocates ~15 arrays stalls
the host once a step and the GPU then idles while the host queues the next
launches.  A cache keeps freed blocks and hands them out again for requests
of the same rounded size.

Two uses:

- By default, the arrays fastnp itself makes on the GPU (layer outputs,
  gradients, inputs it copies there) come from fastnp's own cache
  (device_array, to_device).  Nothing else in the process is affected.
  ``fastnp.cuda_pool.enabled = False`` turns it off (plain numba
  allocations); release_cached() gives the cached blocks back to the driver.
- Opt-in, for every numba allocation of the process:
  ``NUMBA_CUDA_MEMORY_MANAGER=fastnp.cuda_pool python train.py`` (or
  ``numba.cuda.set_memory_manager(fastnp.cuda_pool.PooledMemoryManager)``
  before the first CUDA call).

Reuse is ordered by the default stream, on which every fastnp kernel runs:
a block freed while queued kernels still use it is only written by work
queued after them.  Arrays used on other streams need their own
synchronization.  On an out-of-memory error the cached blocks are released
and the allocation retried.
"""
import collections
import weakref

import numpy as np
from numba.cuda.cudadrv import driver as _driver

#: Requests are rounded up to multiples of this below 1 MiB, of 1 MiB above.
SMALL_ROUNDING = 512
LARGE_ROUNDING = 1 << 20

#: Whether fastnp's own GPU arrays come from its cache (see the module docstring).
enabled = True


def rounded(size):
    """The block size a request of `size` bytes gets (at least 1 rounding unit)."""
    unit = SMALL_ROUNDING if size < LARGE_ROUNDING else LARGE_ROUNDING
    return max(unit, -(-size // unit) * unit)


class BlockCache:
    """Device blocks by rounded size: lent out as numba pointers, taken back
    when the last array or view on a block is gone."""

    def __init__(self):
        self._free = collections.defaultdict(list)  # block size -> free device pointers
        self._lent = {}  # device pointer -> its lent MemoryPointer, alive while lent

    def lend(self, context, size):
        """An owned numba pointer to a block of at least `size` bytes."""
        size = rounded(size)
        free = self._free[size]
        ptr = free.pop() if free else self._new_block(context, size)
        lent = self._lent

        def give_back():
            lent.pop(ptr, None)
            free.append(ptr)

        mem = _driver.AutoFreePointer(weakref.proxy(context), ptr, size, finalizer=give_back)
        lent[ptr] = mem  # the owned pointer below refers to mem weakly: keep it alive
        return mem.own()

    def _new_block(self, context, size):
        try:
            return _driver.driver.cuMemAlloc(size)
        except _driver.CudaAPIError as err:
            if err.code != _driver.binding.CUresult.CUDA_ERROR_OUT_OF_MEMORY:
                raise
            self.release()
            context.deallocations.clear()  # numba's own pending frees, too
            return _driver.driver.cuMemAlloc(size)

    def release(self):
        """Free every cached block (cuMemFree; waits for the device)."""
        for blocks in self._free.values():
            while blocks:
                _driver.driver.cuMemFree(blocks.pop())

    def cached_bytes(self):
        """Bytes held in freed blocks, ready for reuse."""
        return sum(size * len(blocks) for size, blocks in self._free.items())


def _context_cache():
    """The current CUDA context and fastnp's cache for it.  One cache per
    context: blocks of one GPU are never lent on another, and a context
    reset (numba.cuda.close()) drops its cache with it."""
    from numba import cuda

    context = cuda.current_context()
    cache = context.extras.get("fastnp.block_cache")
    if cache is None:
        cache = context.extras["fastnp.block_cache"] = BlockCache()
    return context, cache


def device_array(shape, dtype):
    """An uninitialized C-contiguous numba device array, its memory from fastnp's cache."""
    from numba import cuda
    from numba.cuda.cudadrv.devicearray import DeviceNDArray

    dtype = np.dtype(dtype)
    if not enabled:
        return cuda.device_array(shape, dtype)
    shape = tuple(shape) if np.iterable(shape) else (shape,)
    strides = [dtype.itemsize] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    nbytes = int(np.prod(shape)) * dtype.itemsize
    context, cache = _context_cache()
    return DeviceNDArray(shape, tuple(strides), dtype, gpu_data=cache.lend(context, max(nbytes, 1)))


def to_device(host):
    """A copy of a numpy array on the GPU (C-contiguous), its memory from fastnp's cache."""
    host = np.ascontiguousarray(host)
    out = device_array(host.shape, host.dtype)
    out.copy_to_device(host)
    return out


def release_cached():
    """Give the current GPU's cached blocks back to the driver (what torch calls empty_cache)."""
    _context_cache()[1].release()


def cached_bytes():
    """Bytes fastnp's cache holds in freed blocks on the current GPU."""
    return _context_cache()[1].cached_bytes()


class PooledMemoryManager(_driver.NumbaCUDAMemoryManager):
    """numba's device memory manager with a cache of freed blocks, for every
    numba allocation of the process (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cache = BlockCache()

    def memalloc(self, size):
        return self._cache.lend(self.context, size)

    def release_cached(self):
        """Free every cached block (cuMemFree; waits for the device)."""
        self._cache.release()

    def cached_bytes(self):
        """Bytes held in freed blocks, ready for reuse."""
        return self._cache.cached_bytes()

    def reset(self):
        self.release_cached()
        super().reset()


#: What NUMBA_CUDA_MEMORY_MANAGER=fastnp.cuda_pool makes numba use.
_numba_memory_manager = PooledMemoryManager
