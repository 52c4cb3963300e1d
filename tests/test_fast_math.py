"""fast_exp and fast_log against numpy over the whole float range.

Bounds (stated in fastnp.kernels.cpu.fast_math): exp within 2 ulp and log
within 1 ulp of the correctly rounded result, in float64 and float32; the
special values (0, +-inf, NaN, overflow, underflow, subnormals, negatives)
exactly as numpy gives them.
"""
import numpy as np
import pytest

from fastnp.kernels.cpu.fast_math import exp_array, log_array

LIMITS = {np.float64: (-750.0, 710.0), np.float32: (-105.0, 89.0)}


def ulp_error(got, x, fn):
    """|got - fn(x)| in units of the last place of got's dtype, fn evaluated in float64
    (float32) or checked against numpy's own float64 (float64)."""
    exact = fn(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact.astype(got.dtype))).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / ulp


def sample(dtype, lo, hi, rng):
    """A dense sweep, random points, and the neighbourhoods of the range ends."""
    return np.concatenate([
        np.linspace(lo, hi, 1_000_001),
        rng.uniform(lo, hi, 200_000),
        rng.uniform(-1, 1, 100_000),
    ]).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_ulp_bound_and_specials(dtype):
    rng = np.random.default_rng(0)
    lo, hi = LIMITS[dtype]
    x = sample(dtype, lo, hi, rng)
    out = np.empty_like(x)
    exp_array(out, x)
    with np.errstate(over="ignore", under="ignore"):
        ref = np.exp(x.astype(np.float64)).astype(dtype)
    finite = np.isfinite(ref) & (ref != 0)
    err = ulp_error(out[finite], x[finite], np.exp)
    bound = 2.0 if dtype == np.float64 else 1.0
    assert err.max() <= bound, err.max()
    assert np.array_equal(out[~finite], ref[~finite])  # overflow to inf, underflow to 0
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30], dtype)
    got = np.empty_like(specials)
    exp_array(got, specials)
    np.testing.assert_array_equal(got, np.exp(specials))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_ulp_bound_and_specials(dtype):
    rng = np.random.default_rng(1)
    info = np.finfo(dtype)
    x = np.concatenate([
        np.exp(rng.uniform(np.log(info.tiny), np.log(info.max), 500_000)),  # all binades
        rng.uniform(0.5, 2.0, 200_000),  # around 1, where log is small
        rng.uniform(0, info.tiny, 10_000),  # subnormals
        1 + 1e-9 * rng.standard_normal(10_000),
    ]).astype(dtype)
    x = x[x > 0]
    out = np.empty_like(x)
    log_array(out, x)
    nonzero = np.log(x.astype(np.float64)).astype(dtype) != 0
    err = ulp_error(out[nonzero], x[nonzero], np.log)
    assert err.max() <= 1.0, err.max()
    specials = np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1.0, info.smallest_subnormal], dtype)
    got = np.empty_like(specials)
    log_array(got, specials)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(got, np.log(specials))
