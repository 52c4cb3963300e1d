"""The training functions: time, peak memory (what record_every saves),
first-call latency and gradient-check accuracy."""
import os
import subprocess
import sys
import tempfile

import numpy as np

import fastnp
from fastnp import reference

from .common import IMPLS, need_torch, onehot, warm


def cifar_like(rng, n):
    return 0.25 * rng.standard_normal((n, 3072)), onehot(rng, n, 10)


class LinearBatchGD:
    """batch_gradient_descent_func, 100 updates on 20x3072 (course cell 15)."""
    params = (IMPLS,)
    param_names = ["impl"]

    def setup(self, impl):
        X, Y = cifar_like(np.random.default_rng(6), 20)
        W, b = np.zeros((3072, 10)), np.zeros(10)
        torch = need_torch(impl)
        if impl == "torch":
            tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

            def run():
                tW, tb = torch.zeros(3072, 10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64)
                for _ in range(100):
                    g = (torch.softmax(torch.addmm(tb, tX, tW), 1) - tY) / 20
                    tW.addmm_(tX.T, g, alpha=-0.1)
                    tb.sub_(0.1 * g.sum(0))
            self.fn = run
        else:
            module = fastnp if impl == "fastnp" else reference
            self.fn = lambda: module.batch_gradient_descent_func(X, Y, W, b, 100, 0.1)
        warm(self.fn)

    def time_batch_gd(self, impl):
        self.fn()


class LinearBatchGDLarge:
    """batch_gradient_descent_func, 10 updates on 5000x3072: too many rows for
    the closed form (its 5000x5000 Gram matrix would cost more than it saves),
    so fastnp runs the textbook's loop; this tracks that it stays there."""
    params = (["fastnp", "numpy"],)
    param_names = ["impl"]
    timeout = 300

    def setup(self, impl):
        X, Y = cifar_like(np.random.default_rng(9), 5000)
        W, b = np.zeros((3072, 10)), np.zeros(10)
        module = fastnp if impl == "fastnp" else reference
        self.fn = lambda: module.batch_gradient_descent_func(X, Y, W, b, 10, 0.1)
        warm(self.fn, 1)

    def time_batch_gd_large(self, impl):
        self.fn()


class SGD:
    """stochastic_gradient_descent_func on 10000x3072: 3000 updates of 10 rows, and one epoch of single rows."""
    params = ([10, 1], IMPLS)
    param_names = ["mini_batch", "impl"]
    timeout = 300

    def setup(self, mini_batch, impl):
        need_torch(impl)
        if impl == "torch":
            raise NotImplementedError("no torch peer for the SGD loop in asv (see fastnp bench)")
        X, Y = cifar_like(np.random.default_rng(7), 10000)
        W, b = np.zeros((3072, 10)), np.zeros(10)
        iterations = 3000 if mini_batch > 1 else 10000
        module = fastnp if impl == "fastnp" else reference
        self.fn = lambda: module.stochastic_gradient_descent_func(X, Y, W, b, iterations, 0.01, mini_batch, 0,
                                                                  record_every=iterations)
        warm(self.fn, 1)

    def time_sgd(self, mini_batch, impl):
        self.fn()


class NumericalGradient:
    """TwoLayerNet.numerical_gradient at 3072-10-10 on 20 images (course cell 39)."""
    params = (["fastnp", "numpy"],)
    param_names = ["impl"]
    timeout = 300
    number = 1
    repeat = (1, 3, 60.0)

    def setup(self, impl):
        rng = np.random.default_rng(8)
        self.x, self.t = cifar_like(rng, 20)
        np.random.seed(0)
        self.net = (fastnp if impl == "fastnp" else reference).TwoLayerNet(3072, 10, 10, regularization=1e-4)
        if impl == "fastnp":
            warm(lambda: self.net.numerical_gradient(self.x, self.t), 1)

    def time_numerical_gradient(self, impl):
        self.net.numerical_gradient(self.x, self.t)


class TrainingMemory:
    """Peak memory of 3000 SGD updates on 10000x3072 (the data alone is 246 MB):
    W_his holds one 3072x10 copy per recorded update."""
    params = ([1, 100, None],)
    param_names = ["record_every"]
    timeout = 300

    def setup(self, record_every):
        self.X, self.Y = cifar_like(np.random.default_rng(9), 10000)
        fastnp.stochastic_gradient_descent_func(self.X[:20], self.Y[:20], np.zeros((3072, 10)), np.zeros(10), 2,
                                                0.01, 10, 0)

    def peakmem_sgd(self, record_every):
        fastnp.stochastic_gradient_descent_func(self.X, self.Y, np.zeros((3072, 10)), np.zeros(10), 3000, 0.01, 10,
                                                0, record_every=record_every)


FIRST_CALL = """
import time, numpy as np
start = time.perf_counter()
import fastnp
x = np.random.default_rng(0).standard_normal((100, 10)); t = np.eye(10)[np.arange(100) % 10]
layer = fastnp.OutputLayer(); layer.forward(x, t); layer.backward()
print(time.perf_counter() - start)
"""


class FirstCall:
    """Import plus the first OutputLayer forward+backward in a fresh process."""
    timeout = 300

    def _run(self, cache):
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        done = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1])

    def track_first_call_cold_cache(self):
        with tempfile.TemporaryDirectory() as cache:
            return self._run(cache)

    track_first_call_cold_cache.unit = "seconds"

    def track_first_call_warm_cache(self):
        with tempfile.TemporaryDirectory() as cache:
            self._run(cache)
            return self._run(cache)

    track_first_call_warm_cache.unit = "seconds"


class GradientCheck:
    """Largest mean |backprop - numerical| over the parameters at 3072-10-10 on 20 images."""

    def setup(self):
        self.x, self.t = cifar_like(np.random.default_rng(10), 20)

    def track_gradcheck_difference(self):
        np.random.seed(0)
        net = fastnp.TwoLayerNet(3072, 10, 10, regularization=1e-4)
        backprop, numerical = net.gradient(self.x, self.t), net.numerical_gradient(self.x, self.t)
        return max(float(np.mean(np.abs(backprop[k] - numerical[k]))) for k in backprop)

    track_gradcheck_difference.unit = "mean abs difference"
