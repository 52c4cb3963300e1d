"""The CUDA tiers from the main test run, each in its own process (tests/gpu).

Tier 1: every CUDA kernel and the device="cuda" API against the CPU under
NUMBA_ENABLE_CUDASIM=1 (the variable must be set before numba is imported,
hence the subprocess).  Tier 2: every kernel compiled for compute capability
9.0.  Tier 3 (a real GPU) runs the same files with FASTNP_CUDA_TESTS=1 on a
GPU machine (benchmarks/gpu/run_on_device.sh).  Without numba-cuda these
skip (pip install -e ".[test,cuda]"); under CI they must run.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None


@pytest.fixture
def need_numba_cuda():
    if not HAS_NUMBA_CUDA:
        if os.environ.get("CI"):
            pytest.fail("CI must install the cuda extra: numba-cuda is missing")
        pytest.skip("numba-cuda is not installed (pip install -e '.[test,cuda]')")


def _pytest_process(args, **env):
    """Run pytest on args in a new process with env; it must pass.  Returns its SKIPPED lines."""
    run_env = dict(os.environ, FASTNP_CUDA_TESTS="1", **env)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args], cwd=REPO,
                          env=run_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
    return [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]


@pytest.mark.slow
def test_cuda_kernels_in_the_simulator(need_numba_cuda):
    skipped = _pytest_process(["tests/gpu/test_kernels.py", "tests/gpu/test_layers.py"], NUMBA_ENABLE_CUDASIM="1")
    assert all("too slow for the simulator" in line for line in skipped), skipped


@pytest.mark.slow
def test_cuda_kernels_compile_for_hopper(need_numba_cuda):
    assert _pytest_process(["tests/gpu/test_ptx.py"], NUMBA_ENABLE_CUDASIM="0") == []


def test_asking_for_cuda_without_a_gpu_says_so():
    """Here (no GPU, no simulator) device='cuda' is a clear error, and the CPU still works."""
    if HAS_NUMBA_CUDA and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        from numba import cuda

        if cuda.is_available():
            pytest.skip("a CUDA GPU is present")
    elif os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("the simulator counts as a GPU")
    import fastnp

    with pytest.raises(RuntimeError, match="numba-cuda|GPU"):
        fastnp.TwoLayerNet(4, 3, 2, device="cuda")
    with pytest.raises(RuntimeError, match="numba-cuda|GPU"):
        fastnp.softmax(np.ones((2, 3)), device="cuda")
    assert fastnp.softmax(np.zeros(4)).sum() == pytest.approx(1.0)


def test_cuda_pool_is_a_valid_numba_memory_manager(need_numba_cuda):
    from numba import cuda

    from fastnp.cuda_pool import PooledMemoryManager, rounded

    assert PooledMemoryManager(context=None).interface_version == 1  # what set_memory_manager checks
    assert rounded(1) == 512 and rounded(8000) == 8192 and rounded(3 << 20) == 3 << 20
    assert rounded((1 << 20) + 1) == 2 << 20
    assert callable(cuda.set_memory_manager)
