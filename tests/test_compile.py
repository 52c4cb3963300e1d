"""What the kernels compile to, checked on every CPU path compiled afresh.

Compilation cost: no kernel is compiled twice for one set of array types.
numba compiles a separate specialization of a kernel for each literal integer
another kernel passes it (`Literal[int](0)` beside `int64`): each a second or
more of a user's first call.  Calls between kernels pass fastnp.kernels.cpu._index.ZERO.

Code: no masked vector stores (vmaskmovps/pd, vpmaskmovd/q).  LLVM makes one
of a store that may keep an element's own value (a[i] = a[i] if ... else y,
or if ...: a[i] = 0), and AMD's Zen cores microcode it: on a Zen 3 core,
zeroing a 100x1024 float64 array where a mask is set took 51 us that way
and 19 us by clearing bits (fastnp.kernels.cpu.relu.zero_where).
And no conversions between float64 and integers in the float64 exp and log
(fast_math): AVX2 has no vector instruction for them, so LLVM converts one
lane at a time (the float64 exp took 2.2 ns a score that way, 1.7 without).
The kernels are compiled for Haswell, the common AVX2 core of the Intel and
AMD machines this runs on, so the check does not depend on the host: an
AVX-512 host would mask its stores with a k register instead.

A kernel loaded from numba's cache has its callees inlined (they are never
compiled) and its code cannot be inspected, so the checks run in a fresh
process with an empty cache.
"""
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

import fastnp
from fastnp.kernels.cpu import fast_math


def kernel_dispatchers():
    """{module.function: dispatcher} of every numba kernel in fastnp.kernels.cpu."""
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("fastnp.kernels.cpu"):
            continue
        for attr, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == name:
                found[f"{name}.{attr}"] = value
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
    mask = np.array([[0, 2, 1], [255, 0, 1]], np.uint8).view(bool)  # zero_where's rewrite of such bytes
    fastnp.kernels.cpu.affine_relu_backward_input(np.empty((2, 3)), np.ones((2, 1)), np.ones((3, 1)), mask)
    relu, sigmoid = fastnp.ReLU(), fastnp.Sigmoid()
    relu.backward(relu.forward(x))
    sigmoid.backward(sigmoid.forward(x))
    for elementwise in (fast_math.exp_array, fast_math.log_array):  # fast_exp and fast_log alone
        elementwise(np.empty(8), np.ones(8))


#: A conversion between a float and an integer (cvttsd2si, vcvtsi2sd, vcvttpd2dq, ...).
CONVERSION = re.compile(r"\bv?cvt\w*(si|dq|qq)\w*\b")

#: A masked store in AT&T syntax: vmaskmovps %ymm1, %ymm0, (%rdi) (a load has a register last).
MASKED_STORE = re.compile(r"\bvp?maskmov\w*\s+%[xy]mm\d+,\s*%[xy]mm\d+,\s*[^%\s]*\(")


def compile_report():
    """After every CPU path, compiled afresh: {"literal": {kernel: [its signatures
    with a literal argument]}, "masked_stores": {kernel: [signatures whose code
    has a masked store]}, "float64_conversions": {fast_math's exp_array and
    log_array: [float64 signatures whose code converts between floats and
    integers]}, "compiled": how many kernels were compiled at all}."""
    run_every_cpu_path()
    report = {"literal": {}, "masked_stores": {}, "float64_conversions": {}, "compiled": 0}
    for name, dispatcher in kernel_dispatchers().items():
        sigs = dispatcher.signatures
        if not sigs:
            continue
        report["compiled"] += 1
        report["literal"][name] = [str(s) for s in sigs if "Literal" in str(s)]
        report["masked_stores"][name] = [str(s) for s in sigs if MASKED_STORE.search(dispatcher.inspect_asm(s))]
    for dispatcher in (fast_math.exp_array, fast_math.log_array):
        report["float64_conversions"][dispatcher.__name__] = [
            str(s) for s in dispatcher.signatures
            if "float64" in str(s) and CONVERSION.search(dispatcher.inspect_asm(s))]
    return report


def avx2_host():
    return platform.machine().lower() in ("x86_64", "amd64") and llvm.get_host_cpu_features().get("avx2", False)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    script = "import json, test_compile; print(json.dumps(test_compile.compile_report()))"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp("numba_cache")))
    if avx2_host():
        env["NUMBA_CPU_NAME"] = "haswell"
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent, env=env,
                          capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["compiled"] > 30  # compiled afresh: callees too, not only the entry points
    return found


def test_no_kernel_is_compiled_for_a_literal_argument(report):
    assert {name: sigs for name, sigs in report["literal"].items() if sigs} == {}


@pytest.mark.skipif(not avx2_host(), reason="the check reads x86 AVX2 code")
def test_no_kernel_stores_through_a_mask(report):
    assert {name: sigs for name, sigs in report["masked_stores"].items() if sigs} == {}


@pytest.mark.skipif(not avx2_host(), reason="the check reads x86 AVX2 code")
def test_float64_exp_and_log_convert_nothing_between_floats_and_integers(report):
    assert report["float64_conversions"] == {"exp_array": [], "log_array": []}


def test_the_conversion_pattern():
    for instruction in ("vcvttsd2si\t%xmm0, %rax", "vcvtsi2sd\t%rax, %xmm1, %xmm1", "vcvttpd2dq\t%ymm0, %xmm0",
                        "cvtsi2sdq\t%rcx, %xmm0", "vcvtqq2pd\t%ymm0, %ymm1"):
        assert CONVERSION.search(instruction), instruction
    for other in ("vcvtps2pd\t%xmm0, %ymm0", "vcvtsd2ss\t%xmm0, %xmm0, %xmm0", "vroundpd\t$9, %ymm0, %ymm0"):
        assert not CONVERSION.search(other), other


def test_the_masked_store_pattern_finds_stores_not_loads():
    assert MASKED_STORE.search("\tvmaskmovps\t%ymm1, %ymm0, (%rdi,%rax,4)")
    assert MASKED_STORE.search("\tvpmaskmovq\t%ymm2, %ymm3, -32(%rsi)")
    assert not MASKED_STORE.search("\tvmaskmovpd\t(%rdi), %ymm0, %ymm1")
