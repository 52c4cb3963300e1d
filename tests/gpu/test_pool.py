"""fastnp.cuda_pool on a real GPU (the simulator has no memory managers): blocks
come back for reuse, and a training step gives the same numbers with it."""
import os
import subprocess
import sys
import textwrap

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

