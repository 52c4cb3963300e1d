"""Parallel kernels give the same bits as their serial paths, for any thread count."""
import numba
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import fastnp
from fastnp.kernels import config


def run_all(rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x = 5 * rng.standard_normal((3000, 10))
    labels = rng.integers(0, 10, 3000)
    layer = fastnp.OutputLayer()
    loss = layer.forward(x, labels)
    net = fastnp.TwoLayerNet(40, 6, 10, regularization=0.01, weight_init_std=0.5, seed=2)
    num = net.numerical_gradient(x[:30, :10].repeat(4, axis=1), labels[:30])
    return [fastnp.softmax(x), np.array(loss), layer.backward()] + [num[k] for k in sorted(num)]


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
