"""The CUDA tests: run in their own pytest process (tests/test_cuda.py starts
them), because NUMBA_ENABLE_CUDASIM must be set before numba is imported.

    NUMBA_ENABLE_CUDASIM=1 FASTNP_CUDA_TESTS=1 python -m pytest tests/gpu   # tier 1, simulator
    FASTNP_CUDA_TESTS=1 python -m pytest tests/gpu/test_ptx.py             # tier 2, no GPU needed
    FASTNP_CUDA_TESTS=1 python -m pytest tests/gpu                          # tier 3 + 2 on a GPU
"""
import os

import pytest

pytest.importorskip("numba_cuda", reason="the CUDA tests need numba-cuda (pip install -e '.[cuda]')")

from numba import cuda  # noqa: E402

from fastnp.kernels.cuda import config  # noqa: E402

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
#: Kernels can run: under the simulator, or with a real GPU and driver.
CAN_RUN = SIMULATED or cuda.is_available()

#: Launch settings patched down so that the small test arrays span several
#: blocks and tiles with ragged edges: a few threads per block, at most 3
#: blocks (grid-stride loops wrap), rows wider than 8 columns on the
#: block-per-row path, narrow-row tiles staged by groups of 4 threads, 8x8 (float32) and
#: 8x4 (float64) matmul tiles, and split-K for products of fewer than 4 tiles.
SMALL = {
    "THREADS": 8,
    "ROW_THREADS": 8,
    "MAX_BLOCKS": 3,
    "PARTIAL_MAX_BLOCKS": 3,
    "NARROW_COLUMNS": 8,
    "STAGE_GROUP": 4,
    "MATMUL_TILE": {"float32": (8, 8, 4, 2, 2), "float64": (8, 4, 2, 4, 2)},
    "COLUMN_BLOCK": (4, 2),
    "SPLIT_K_MIN_TILES": 4,
    "SPLIT_K_TARGET_BLOCKS": 8,
    "SPLIT_K_MIN_STEPS": 1,
}


def _settings():
    """Under the simulator: SMALL.  On a GPU: SMALL and the shipped defaults,
    each with and without warp shuffles (the simulator has none)."""
    if SIMULATED:
        return [("small", SMALL)]
    return [(f"{name}-{'shuffle' if shuffle else 'shared'}", dict(over, WARP_SHUFFLE=shuffle))
            for name, over in (("small", SMALL), ("default", {}))
            for shuffle in (True, False)]


@pytest.fixture(params=_settings(), ids=lambda s: s[0])
def launch_config(request, monkeypatch):
    """Each test runs under every launch setting of _settings()."""
    if not CAN_RUN:
        pytest.skip("no CUDA GPU here (and NUMBA_ENABLE_CUDASIM is not set)")
    for key, value in request.param[1].items():
        monkeypatch.setattr(config, key, value)
    return request.param[0]
