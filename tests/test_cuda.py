"""The CUDA tiers from the main test run, each in its own process (tests/gpu).

Tier 1: every CUDA kernel and the device="cuda" API against the CPU under
NUMBA_ENABLE_CUDASIM=1 (the variable must be set before numba is imported,
hence the subprocess).  Tier 2: every kernel compiled for compute capability
9.0.  tests/conftest.py starts both processes when collection ends, so they
run beside the rest of the suite, and puts their checks here last.  Tier 3
(a real GPU) runs the same files with FASTNP_CUDA_TESTS=1 on a GPU machine
(benchmarks/gpu/run_on_device.sh).  Without numba-cuda these skip
(pip install -e ".[test,cuda]"); under CI they must run.
"""
import os

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA, TIER_PROCESSES


@pytest.fixture
def need_numba_cuda():
    if not HAS_NUMBA_CUDA:
        if os.environ.get("CI"):
            pytest.fail("CI must install the cuda extra: numba-cuda is missing")
        pytest.skip("numba-cuda is not installed (pip install -e '.[test,cuda]')")


@pytest.fixture
def tier_processes(request):
    """{tier test name: (process, log)}, started by tests/conftest.py."""
    return request.config.stash[TIER_PROCESSES]


def _tier_result(processes, name):
    """Wait for tier `name`'s process; it must pass.  Returns its SKIPPED lines."""
    process, log = processes[name]
    process.wait(timeout=900)
    log.seek(0)
    output = log.read()
    assert process.returncode == 0, output[-9000:]
    assert " passed" in output
    return [line for line in output.splitlines() if line.startswith("SKIPPED")]


@pytest.mark.slow
def test_cuda_kernels_in_the_simulator(need_numba_cuda, tier_processes):
    skipped = _tier_result(tier_processes, "test_cuda_kernels_in_the_simulator")
    assert all("too slow for the simulator" in line for line in skipped), skipped


@pytest.mark.slow
def test_cuda_kernels_compile_for_hopper(need_numba_cuda, tier_processes):
    assert _tier_result(tier_processes, "test_cuda_kernels_compile_for_hopper") == []


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
