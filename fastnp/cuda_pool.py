"""A caching device-memory allocator for numba-cuda, opt-in:

    NUMBA_CUDA_MEMORY_MANAGER=fastnp.cuda_pool python train.py

(or ``numba.cuda.set_memory_manager(fastnp.cuda_pool.PooledMemoryManager)``
before the first CUDA call of the process).

Why: the layers allocate their outputs on every call, as numpy code does.
numba's default manager turns each device allocation into cuMemAlloc and
each free into a queued cuMemFree, flushed every 10 frees; cuMemFree
waits for the device, so a training step that allocates ~15 arrays stalls
the host once a step and the GPU then idles while the host queues the next
launches.  This manager keeps freed blocks and hands them out again for
requests of the same rounded size, like torch's caching allocator.

Reuse is ordered by the default stream, on which every fastnp kernel runs:
a block freed while queued kernels still use it is only written by work
queued after them.  Arrays used on other streams need their own
synchronization.  On an out-of-memory error the cached blocks are released
and the allocation retried.  numba's manager is process-wide, so this
affects every numba device allocation in the process.
"""
import collections
import weakref

from numba.cuda.cudadrv import driver as _driver

#: Requests are rounded up to multiples of this below 1 MiB, of 1 MiB above.
SMALL_ROUNDING = 512
LARGE_ROUNDING = 1 << 20


def rounded(size):
    """The block size a request of `size` bytes gets (at least 1 rounding unit)."""
    unit = SMALL_ROUNDING if size < LARGE_ROUNDING else LARGE_ROUNDING
    return max(unit, -(-size // unit) * unit)


class PooledMemoryManager(_driver.NumbaCUDAMemoryManager):
    """numba's device memory manager with a cache of freed blocks (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._free = collections.defaultdict(list)  # block size -> free device pointers

    def memalloc(self, size):
        size = rounded(size)
        free = self._free[size]
        ptr = free.pop() if free else self._new_block(size)

        allocations = self.allocations

        def give_back():
            allocations.pop(ptr, None)
            free.append(ptr)

        mem = _driver.AutoFreePointer(weakref.proxy(self.context), ptr, size, finalizer=give_back)
        allocations[ptr] = mem  # the owned pointer below refers to mem weakly: keep it alive
        return mem.own()

    def _new_block(self, size):
        try:
            return _driver.driver.cuMemAlloc(size)
        except _driver.CudaAPIError as err:
            if err.code != _driver.binding.CUresult.CUDA_ERROR_OUT_OF_MEMORY:
                raise
            self.release_cached()
            self.deallocations.clear()
            return _driver.driver.cuMemAlloc(size)

    def release_cached(self):
        """Free every cached block (cuMemFree; waits for the device)."""
        for blocks in self._free.values():
            while blocks:
                _driver.driver.cuMemFree(blocks.pop())

    def cached_bytes(self):
        """Bytes held in freed blocks, ready for reuse."""
        return sum(size * len(blocks) for size, blocks in self._free.items())

    def reset(self):
        self.release_cached()
        super().reset()


#: What NUMBA_CUDA_MEMORY_MANAGER=fastnp.cuda_pool makes numba use.
_numba_memory_manager = PooledMemoryManager
