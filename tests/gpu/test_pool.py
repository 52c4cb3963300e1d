"""fastnp.cuda_pool on a real GPU (the simulator has no device memory): blocks
come back for reuse once no array or view uses them, and training gives the
same numbers with the cache as without."""
import os
import subprocess
import sys
import textwrap

import numpy as np

import pytest

from .conftest import SIMULATED

pytestmark = pytest.mark.skipif(SIMULATED, reason="the simulator has no device memory to manage")

SCRIPT = textwrap.dedent("""
    import numpy as np
    from numba import cuda
    import fastnp
    if cuda.is_available():
        mm = cuda.current_context().memory_manager
        a = cuda.device_array(1000)
        ptr = a.__cuda_array_interface__["data"][0]
        del a
        b = cuda.device_array(990)  # rounds to the same 8 KB block
        print("reused", b.__cuda_array_interface__["data"][0] == ptr, type(mm).__name__)
        net = fastnp.TwoLayerNet(50, 20, 10, seed=0, device="cuda")
        x = np.random.default_rng(0).standard_normal((64, 50)); t = np.arange(64) % 10
        for _ in range(5):
            net.gradient(x, t); net.update_params(0.1)
        print("loss", repr(net.loss(x, t)))
""")


def _run(pool):
    env = dict(os.environ)
    if pool:
        env["NUMBA_CUDA_MEMORY_MANAGER"] = "fastnp.cuda_pool"
    else:
        env.pop("NUMBA_CUDA_MEMORY_MANAGER", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_pool_reuses_blocks_and_keeps_the_numbers():
    from numba import cuda

    if not cuda.is_available():
        pytest.skip("no CUDA GPU here")
    pooled, plain = _run(True), _run(False)
    assert pooled[0] == "reused True PooledMemoryManager"
    assert pooled[1] == plain[1]  # same loss to the bit



def test_fastnp_arrays_come_from_its_cache(monkeypatch):
    from numba import cuda

    if not cuda.is_available():
        pytest.skip("no CUDA GPU here")
    import fastnp
    from fastnp import _device, cuda_pool

    def address(a):
        return a.__cuda_array_interface__["data"][0]

    a = _device.empty("cuda", (1000,), np.float64)
    block, view = address(a), a[10:]
    del a
    assert address(_device.empty("cuda", (990,), np.float64)) != block  # the view still uses it
    del view
    assert address(_device.empty("cuda", (990,), np.float64)) == block  # same rounded size: reused
    assert cuda_pool.cached_bytes() > 0

    x = np.random.default_rng(0).standard_normal((64, 50))
    t = np.arange(64) % 10
    losses = []
    for enabled in (True, False):
        monkeypatch.setattr(cuda_pool, "enabled", enabled)
        net = fastnp.TwoLayerNet(50, 20, 10, seed=0, device="cuda")
        for _ in range(5):
            net.gradient(x, t)
            net.update_params(0.1)
        losses.append(net.loss(x, t))
    assert losses[0] == losses[1]
    cuda_pool.release_cached()
    assert cuda_pool.cached_bytes() == 0
