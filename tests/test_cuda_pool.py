"""fastnp.cuda_pool's bookkeeping without a GPU: the driver's cuMemAlloc and
cuMemFree and numba's current context are replaced by fakes, so what is
tested is which block is lent when (tests/gpu/test_pool.py runs the real
thing on a GPU)."""
import itertools

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="fastnp.cuda_pool needs numba-cuda")

from fastnp import cuda_pool  # noqa: E402


class FakeDriver:
    """cuMemAlloc hands out increasing addresses; cuMemFree records them."""

    def __init__(self):
        self._next = itertools.count(1 << 20, 1 << 20)
        self.freed = []

    def cuMemAlloc(self, size):
        return cuda_pool._driver.binding.CUdeviceptr(next(self._next))

    def cuMemFree(self, ptr):
        self.freed.append(int(ptr))


class FakeContext:
    def __init__(self):
        self.extras = {}


@pytest.fixture
def fake_gpu(monkeypatch):
    from numba import cuda

    driver = FakeDriver()
    contexts = [FakeContext(), FakeContext()]
    current = [contexts[0]]
    monkeypatch.setattr(cuda_pool._driver, "driver", driver)
    monkeypatch.setattr(cuda, "current_context", lambda: current[0])
    return driver, contexts, current


def address(a):
    return a.__cuda_array_interface__["data"][0]


def test_blocks_are_reused_only_when_nothing_uses_them(fake_gpu):
    a = cuda_pool.device_array((10, 100), np.float64)
    assert a.shape == (10, 100) and a.strides == (800, 8) and a.dtype == np.float64
    block = address(a)
    view = a.gpu_data.view(1600)  # what a[2:] holds (slicing itself needs a real context)
    del a
    b = cuda_pool.device_array(990, np.float64)  # rounds to the same 8 KB, but a view still uses the block
    assert address(b) != block
    del view
    assert address(cuda_pool.device_array(1000, np.float64)) == block
    c = cuda_pool.device_array(3 << 20, np.uint8)  # another size: a block of its own
    assert address(c) not in (block, address(b))


def test_each_context_has_its_own_cache_and_release_frees_its_blocks(fake_gpu):
    driver, contexts, current = fake_gpu
    a = cuda_pool.device_array(100, np.float32)
    block = address(a)
    del a
    current[0] = contexts[1]  # another GPU: the first one's block is not lent here
    assert address(cuda_pool.device_array(100, np.float32)) != block
    assert cuda_pool.cached_bytes() == 512  # the block just dropped, on this GPU
    current[0] = contexts[0]
    assert cuda_pool.cached_bytes() == 512
    cuda_pool.release_cached()
    assert driver.freed == [block] and cuda_pool.cached_bytes() == 0


def test_disabled_means_plain_numba_allocations(fake_gpu, monkeypatch):
    from numba import cuda

    made = []
    monkeypatch.setattr(cuda_pool, "enabled", False)
    monkeypatch.setattr(cuda, "device_array", lambda shape, dtype: made.append((shape, dtype)) or "plain")
    assert cuda_pool.device_array((2, 3), np.float32) == "plain"
    assert made == [((2, 3), np.dtype(np.float32))]


def test_kernel_work_buffers_are_kept_per_context(fake_gpu):
    """The kernels' reused buffers (partial sums, split-K products, the
    last-block counter) live in their context's extras, like the cache."""
    from fastnp.kernels.cuda import _launch

    _, contexts, current = fake_gpu
    first = _launch.kept_buffers()
    first["x"] = "a buffer of the first GPU"
    current[0] = contexts[1]
    assert "x" not in _launch.kept_buffers()
    current[0] = contexts[0]
    assert _launch.kept_buffers() is first is contexts[0].extras["fastnp.kernels.cuda"]
    current[0] = object()  # the simulator's context has no extras
    assert _launch.kept_buffers() is _launch._SIMULATOR_KEPT
