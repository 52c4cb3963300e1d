"""Tier 2: every CUDA kernel compiled for a Hopper GPU (compute capability
9.0) at every signature the layers and functions use, with no GPU needed.

The simulator runs kernels as Python and ignores numba's typing; this
compiles them through NVVM to PTX, which catches typing and lowering errors,
and assembles the kernels that keep arrays in registers for sm_90 (nvJitLink)
to check that none of those arrays spill to local memory.
Needs numba-cuda with its NVVM (the cu13 extra); not under the simulator.
"""
import importlib
import itertools
import re
import types as pytypes

import pytest
from numba import cuda, types
from numba.cuda import dispatcher as numba_cuda_dispatcher

from fastnp.kernels.cuda import config

from .conftest import SIMULATED


def _module(name):
    # importlib: some submodules share their name with a function the package exports.
    return importlib.import_module(f"fastnp.kernels.cuda.{name}")


_launch, accuracy, affine, axpy, cross_entropy, linear_classifier, matmul, numerical_gradient, relu, sigmoid, softmax, \
    softmax_cross_entropy = map(_module, (
        "_launch", "accuracy", "affine", "axpy", "cross_entropy", "linear_classifier", "matmul", "numerical_gradient",
        "relu", "sigmoid", "softmax", "softmax_cross_entropy"))

pytestmark = pytest.mark.skipif(SIMULATED, reason="compile_ptx needs the real CUDA target, not the simulator")

CC = (9, 0)
FLOATS = (types.float32, types.float64)
f64, i64, u32 = types.float64, types.int64, types.uint32


@pytest.fixture(autouse=True)
def hopper_device_functions(monkeypatch):
    """numba-cuda compiles the device functions a kernel calls for the current
    device, which needs a driver: tell it the current device is a Hopper."""
    if not cuda.is_available():
        hopper = pytypes.SimpleNamespace(compute_capability=CC)
        monkeypatch.setattr(numba_cuda_dispatcher, "get_current_device", lambda: hopper)


def vec(dt):
    return types.Array(dt, 1, "C")


def mat(dt):
    return types.Array(dt, 2, "C")


def compile_for_hopper(kernel, sig):
    ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=CC)
    assert ".target sm_90" in ptx
    return ptx


def assert_in_registers(ptx):
    """The kernel keeps its arrays in registers: no local memory in the PTX,
    and none spilled when ptxas (nvJitLink, as numba-cuda links on a GPU)
    assembles it for sm_90."""
    assert "ld.local" not in ptx and "st.local" not in ptx
    registers, spilled = hopper_registers(ptx)
    assert spilled == 0, f"{spilled} bytes spilled at {registers} registers"


def hopper_registers(ptx):
    """(registers per thread, bytes of spill stores and loads) of a one-kernel
    PTX module assembled for sm_90 by nvJitLink."""
    nvjitlink = pytest.importorskip("cuda.bindings.nvjitlink")
    data = ptx.encode()
    handle = nvjitlink.create(2, ["-arch=sm_90", "-verbose"])
    try:
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel.ptx")
        nvjitlink.complete(handle)
        log = bytearray(nvjitlink.get_info_log_size(handle))
        nvjitlink.get_info_log(handle, log)
    finally:
        nvjitlink.destroy(handle)
    log = log.decode()
    registers = int(re.search(r"Used (\d+) registers", log).group(1))
    stores, loads = map(int, re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", log).groups())
    return registers, stores + loads


def reducing(factory):
    """The kernels a factory builds for the default threads, with and without warp shuffles."""
    return [factory(config.THREADS, shuffle) for shuffle in (False, True)]


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_elementwise(dt):
    b1 = vec(types.boolean)
    for kernel, sig in ((relu._relu_forward, (vec(dt), b1, vec(dt))), (relu._relu_backward, (vec(dt), vec(dt), b1)),
                        (sigmoid._sigmoid_forward, (vec(dt), vec(dt))),
                        (sigmoid._sigmoid_backward, (vec(dt), vec(dt), vec(dt)))):
        assert_in_registers(compile_for_hopper(kernel, sig))  # each pass's ELEMENT_LOADS values in registers
    compile_for_hopper(axpy._axpy, (vec(dt), f64, vec(dt)))
    compile_for_hopper(axpy._add_scaled, (vec(dt), vec(dt), f64, vec(dt)))
    for kernel in reducing(axpy._sum_of_squares_kernel):
        compile_for_hopper(kernel, (vec(f64), vec(dt)))


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_rows(dt):
    group = config.STAGE_GROUP
    narrow = (10, config.NARROW_COLUMNS)  # the course's classes, the widest narrow rows
    for C in narrow:
        rows = softmax.rows_per_tile(config.ROW_THREADS, C, str(dt))
        ptx = compile_for_hopper(softmax._softmax_narrow(str(dt), rows, group, C), (vec(dt), vec(dt), i64))
        assert_in_registers(ptx)  # staged loads and the row stay in registers
    for kernel in reducing(softmax._softmax_wide):
        compile_for_hopper(kernel, (mat(dt), mat(dt)))
    for labels, with_grad, pairs in itertools.product((False, True), repeat=3):
        if pairs and (with_grad or dt != types.float32):
            continue  # 8-byte pairs: float32 scores, loss only
        # labels: the layers pass int64; GPU labels of other integer types are used as given
        targets = [vec(i64), vec(types.int32)] if labels else [vec(dt)]
        scores = vec(i64) if pairs else vec(dt)
        threads = config.ROW_THREADS
        for C, shuffle in itertools.product(narrow, (False, True)):
            rows_per_tile = softmax.rows_per_tile(threads, C, str(dt))
            kernel = softmax_cross_entropy._narrow(str(dt), threads, rows_per_tile, group, C, shuffle, labels,
                                                   with_grad, pairs)
            for target in targets:
                ptx = compile_for_hopper(kernel, (vec(f64), i64, f64, vec(f64), vec(u32), vec(dt), scores, target,
                                                  f64, i64))
                assert_in_registers(ptx)
        for kernel in reducing(lambda threads, shuffle: softmax_cross_entropy._wide(str(dt), threads, shuffle,
                                                                                    with_grad)):
            compile_for_hopper(kernel, (vec(f64), i64, f64, vec(f64), vec(u32), mat(dt), mat(dt),
                                        vec(i64) if labels else mat(dt), f64))
    for kernel in reducing(accuracy._count_correct_partial):
        compile_for_hopper(kernel, (vec(f64), mat(dt), mat(dt)))
        compile_for_hopper(kernel, (vec(f64), mat(dt), vec(i64)))
    for kernel in reducing(cross_entropy._cross_entropy_partial):
        compile_for_hopper(kernel, (vec(f64), mat(dt), mat(dt)))
    for kernel in reducing(_launch._sum_partials_kernel):
        compile_for_hopper(kernel, (vec(f64), i64, vec(f64), f64))


@pytest.mark.parametrize("dt", FLOATS, ids=str)
@pytest.mark.parametrize("epilogue", matmul.EPILOGUES)
def test_matmul(dt, epilogue):
    """Every transpose combination with the plain store, split-K or not (split
    kernels always store: their epilogue runs in _finish_kernel); the other
    epilogues, which touch only the final write, where the kernels use them."""
    tile = tuple(config.MATMUL_TILE[str(dt)])
    if epilogue == "store":
        variants = itertools.product((False, True), repeat=3)
    else:
        # (trans_a, trans_b, split): bias and bias_relu in the forward products, relu_grad in
        # affine_relu_backward_input (dout @ W.T), axpy in the classifier's update (X.T @ G).
        variants = [{"relu_grad": (False, True, False), "axpy": (True, False, False)}.get(
            epilogue, (False, False, False))]
    for trans_a, trans_b, split in variants:
        kernel, _ = matmul._kernel(str(dt), trans_a, trans_b, epilogue, tile, split)
        ptx = compile_for_hopper(kernel, (mat(dt), types.Array(dt, 3, "C"), mat(dt), mat(dt), vec(dt),
                                          mat(types.boolean), f64, i64))
        # The accumulators and staged values must live in registers: a
        # local-memory array would show up as .local loads and stores.
        assert_in_registers(ptx)
    compile_for_hopper(matmul._finish_kernel(epilogue),
                       (mat(dt), types.Array(dt, 3, "C"), vec(dt), mat(types.boolean), f64))


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_affine_and_training(dt):
    compile_for_hopper(affine._column_sums_kernel(*config.COLUMN_BLOCK), (vec(dt), mat(dt)))
    compile_for_hopper(linear_classifier._gather_rows, (mat(dt), mat(dt), mat(i64), i64))
    for classes in (10, config.SMALL_BATCH_CLASSES):
        ptx = compile_for_hopper(linear_classifier._small_batch_loop(str(dt), config.THREADS, classes),
                                 (mat(dt), vec(dt), vec(f64), types.Array(dt, 3, "C"), mat(dt), mat(dt), mat(i64), i64,
                                  f64, i64))
        assert_in_registers(ptx)  # partial sums and loaded values in registers
        for shuffle in (False, True):
            ptx = compile_for_hopper(linear_classifier._gram_loop(str(dt), config.THREADS, classes, shuffle),
                                     (mat(dt), mat(dt), mat(dt), vec(dt), vec(f64), types.Array(dt, 3, "C"), mat(dt),
                                      f64, i64))
            assert_in_registers(ptx)  # a row's scores in registers
    compile_for_hopper(linear_classifier._weights_from_sums,
                       (types.Array(dt, 3, "C"), mat(dt), mat(dt), types.Array(dt, 3, "C"), f64))
    # The small-batch loop's static shared memory (scores, partial sums, row indices) must fit the 48 KB a
    # block may declare.
    assert 8 * (config.SMALL_BATCH_SCORES + config.THREADS * (config.SMALL_BATCH_CLASSES + 1)) <= 48 * 1024


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_numerical_gradient(dt):
    first, second = numerical_gradient._kernels(str(dt))
    compile_for_hopper(first, (mat(dt), vec(dt), mat(dt), mat(dt), mat(dt), vec(dt), mat(dt), mat(dt), mat(dt),
                               mat(dt), f64, f64))
    compile_for_hopper(second, (mat(dt), vec(dt), mat(dt), mat(dt), mat(dt), mat(dt), mat(dt), vec(dt), f64, f64))
