import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

# numba's OpenMP threads spin-wait by default, which on a 2-core machine turns a
# short parallel kernel into a long one while anything else runs; set before numba loads.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# No deadline (the first example of a test compiles kernels).  Under CI the
# examples are derandomized so a run is reproducible; locally each run
# explores new ones.
settings.register_profile("fastnp", deadline=None, max_examples=40, derandomize=bool(os.environ.get("CI")))
settings.load_profile("fastnp")

REPO = Path(__file__).resolve().parents[1]
#: The offline CIFAR-10 subset; FASTNP_DATA names another folder holding cifar-10-batches-py.
DATA_ROOT = Path(os.environ.get("FASTNP_DATA", REPO.parent / "shared" / "data" / "cifar10-jpeg-subset"))


def _batch(name):
    with open(DATA_ROOT / "cifar-10-batches-py" / name, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    # File rows are CHW (1024 red, 1024 green, 1024 blue); the course uses HWC.
    x = np.asarray(d[b"data"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072)
    return x.astype(np.float64) / 255.0, np.asarray(d[b"labels"])


@pytest.fixture(scope="session")
def cifar_root():
    """The folder holding cifar-10-batches-py; skips without it (fails under CI, which has it)."""
    if not (DATA_ROOT / "cifar-10-batches-py").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the CIFAR-10 subset at {DATA_ROOT}")
        pytest.skip(f"CIFAR-10 data not found at {DATA_ROOT} "
                    "(set FASTNP_DATA to the folder holding cifar-10-batches-py)")
    return DATA_ROOT


@pytest.fixture(scope="session")
def cifar(cifar_root):
    """(X_tr, Y_tr, X_te, Y_te): the course's preprocessing, pixels / 255 minus the
    train mean image, read here independently of fastnp.datasets."""
    X_tr, Y_tr = _batch("data_batch_1")
    X_te, Y_te = _batch("test_batch")
    mean = X_tr.mean(axis=0)
    return X_tr - mean, Y_tr, X_te - mean, Y_te

# tests/gpu runs in its own processes (started below, checked by tests/test_cuda.py):
# NUMBA_ENABLE_CUDASIM must be set before numba is first imported.
collect_ignore = [] if os.environ.get("FASTNP_CUDA_TESTS") else ["gpu"]


#: The CUDA tiers that tests/test_cuda.py checks, each a pytest process of its
#: own (tests/gpu): their test, the files they run and their settings.
CUDA_TIERS = {
    "test_cuda_kernels_in_the_simulator": (["tests/gpu/test_kernels.py", "tests/gpu/test_layers.py",
                                            "tests/gpu/test_kernel_arguments.py"], {"NUMBA_ENABLE_CUDASIM": "1"}),
    "test_cuda_kernels_compile_for_hopper": (["tests/gpu/test_ptx.py"], {"NUMBA_ENABLE_CUDASIM": "0"}),
}
HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
TIER_PROCESSES = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config, items):
    """The CUDA tiers' checks run last: their processes, started when collection
    ends, run beside the rest of the suite (the simulator tier alone takes about
    4 minutes of one core)."""
    tiers = [item for item in items if item.name in CUDA_TIERS]
    items[:] = [item for item in items if item.name not in CUDA_TIERS] + tiers


def pytest_collection_finish(session):
    """Start the pytest process of every CUDA tier this session runs.  Output goes
    to files (a full pipe would stall a process until its turn to be read)."""
    processes = session.config.stash.setdefault(TIER_PROCESSES, {})
    if not HAS_NUMBA_CUDA or session.config.option.collectonly:
        return
    for name in sorted({item.name for item in session.items} & set(CUDA_TIERS)):
        args, env = CUDA_TIERS[name]
        log = tempfile.TemporaryFile("w+")
        command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args]
        run_env = dict(os.environ, FASTNP_CUDA_TESTS="1", **env)
        processes[name] = subprocess.Popen(command, cwd=REPO, env=run_env, stdout=log, stderr=subprocess.STDOUT,
                                           text=True), log


def pytest_sessionfinish(session):
    """A tier process still running at the end (the session stopped before its
    check: -x, an interrupt) is killed."""
    for process, log in session.config.stash.get(TIER_PROCESSES, {}).values():
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()
