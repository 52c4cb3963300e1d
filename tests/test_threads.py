"""Parallel kernels give the same bits as their serial paths, for any thread count."""
import math

import numba
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import fastnp
from fastnp.kernels import config
from fastnp.kernels.cpu import add_scaled, axpy, sum_of_squares


def run_all(rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x = 5 * rng.standard_normal((3000, 10))
    labels = rng.integers(0, 10, 3000)
    layer = fastnp.OutputLayer()
    loss = layer.forward(x, labels)
    net = fastnp.TwoLayerNet(40, 6, 10, regularization=0.01, weight_init_std=0.5, seed=2)
    inputs = x[:30, :10].repeat(4, axis=1)
    num = net.numerical_gradient(inputs, labels[:30])
    grad = net.gradient(inputs, labels[:30])  # the weight-decay terms: add_scaled
    net.update_params(0.1)  # axpy
    net_loss = net.loss(inputs, labels[:30])  # the L2 term: sum_of_squares
    return ([fastnp.softmax(x), np.array(loss), layer.backward()] + [num[k] for k in sorted(num)]
            + [grad[k] for k in sorted(grad)] + [net.params[k] for k in sorted(net.params)] + [np.array(net_loss)])


@pytest.fixture
def threads_restored():
    n = numba.get_num_threads()
    yield
    numba.set_num_threads(n)


def test_serial_and_parallel_paths_agree_bitwise(monkeypatch):
    monkeypatch.setattr(config, "PARALLEL_MIN_WORK", 10**18)
    serial = run_all()
    monkeypatch.setattr(config, "PARALLEL_MIN_WORK", 0)
    parallel = run_all()
    for a, b in zip(serial, parallel):
        assert_array_equal(a, b)


def test_one_and_two_threads_agree_bitwise(monkeypatch, threads_restored):
    monkeypatch.setattr(config, "PARALLEL_MIN_WORK", 0)
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba was started with one thread")
    numba.set_num_threads(1)
    one = run_all()
    numba.set_num_threads(2)
    two = run_all()
    for a, b in zip(one, two):
        assert_array_equal(a, b)


def test_threaded_vector_kernels_against_numpy():
    """axpy, add_scaled and sum_of_squares at a size that takes their threaded paths."""
    if numba.get_num_threads() < 2:
        pytest.skip("numba runs one thread here")
    n = config.PARALLEL_MIN_WORK + 4 * 65536 + 7  # several sum_of_squares chunks, the last one short
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    out = np.empty(n)
    add_scaled(out, x, -0.3, y)
    assert_array_equal(out, x + -0.3 * y)
    updated = y.copy()
    axpy(updated, 0.7, x)
    assert_array_equal(updated, y + 0.7 * x)
    assert sum_of_squares(x) == pytest.approx(math.fsum(v * v for v in x.tolist()), rel=1e-13)
