"""Compilation cost: no kernel is compiled twice for one set of array types.

numba compiles a separate specialization of a kernel for each literal integer
another kernel passes it (`Literal[int](0)` beside `int64`): each a second or
more of a user's first call.  Calls between kernels pass fastnp.kernels.cpu._index.ZERO.
A kernel loaded from numba's cache has its callees inlined (they are never
compiled), so the check runs in a fresh process with an empty cache.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from numba.core.registry import CPUDispatcher

import fastnp


def kernel_signatures():
    """{module.function: [signature, ...]} of every numba kernel in fastnp.kernels.cpu."""
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("fastnp.kernels.cpu"):
            continue
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == name:
                found[f"{name}.{attr}"] = value.nopython_signatures
    return found


def run_every_cpu_path():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((40, 12)), rng.integers(0, 4, 40)
    t = np.eye(4)[labels]
    for dtype in (np.float64, np.float32):
        layer = fastnp.OutputLayer()
        layer.forward(x[:, :4].astype(dtype), t.astype(dtype))
        layer.backward()
        fastnp.softmax(x.astype(dtype))
    fastnp.OutputLayer().forward(x[:, :4], labels)
    big = rng.standard_normal((3000, 100))  # threaded paths
    fastnp.OutputLayer().forward(big[:, :10], rng.integers(0, 10, 3000))
    fastnp.softmax(big)
    W, b = np.zeros((12, 4)), np.zeros(4)
    fastnp.batch_gradient_descent_func(x[:5], t[:5], W, b, 3, 0.1)  # closed form (few rows)
    fastnp.batch_gradient_descent_func(x, t, W, b, 3, 0.1)  # the textbook loop
    for mini_batch in (1, 3, 6):
        fastnp.stochastic_gradient_descent_func(x, t, W, b, 4, 0.1, mini_batch, 0)
    net = fastnp.TwoLayerNet(12, 5, 4, regularization=0.01, seed=0)
    net.gradient(x, t)
    net.update_params(0.1)
    net.numerical_gradient(x[:6], t[:6])
    relu, sigmoid = fastnp.ReLU(), fastnp.Sigmoid()
    relu.backward(relu.forward(x))
    sigmoid.backward(sigmoid.forward(x))


def literal_signatures():
    """{kernel: [its signatures with a literal argument]} after every CPU path, and
    how many kernels were compiled at all."""
    run_every_cpu_path()
    compiled = {name: [str(s) for s in sigs] for name, sigs in kernel_signatures().items() if sigs}
    return {name: [s for s in sigs if "Literal" in s] for name, sigs in compiled.items()}


def test_no_kernel_is_compiled_for_a_literal_argument(tmp_path):
    script = "import json, test_compile; print(json.dumps(test_compile.literal_signatures()))"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent, env=env,
                          capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(found) > 30  # compiled afresh: callees too, not only the entry points
    assert {name: sigs for name, sigs in found.items() if sigs} == {}
