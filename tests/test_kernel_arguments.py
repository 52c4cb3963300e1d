"""Every public CPU kernel refuses arguments whose shapes do not fit
together, whose dtypes are not the ones it computes in, or whose memory
layout it cannot take.

Without these checks a kernel called directly (fastnp.kernels.cpu) with an
output shorter than its input wrote past the output's end: a silent wrong
answer, or a corrupted heap and a crash later; and an integer output took
the results rounded toward zero without a word.  The CUDA twins make the
same checks (tests/gpu/test_kernel_arguments.py).
"""
import sys

import numpy as np
import pytest
from numba import njit
from numba.core.registry import CPUDispatcher

import fastnp.kernels._contracts as contracts
import fastnp.kernels.cpu as cpu
from kernel_cases import (
    C_CONTIGUOUS,
    CASES,
    byte_swapped_calls,
    kernel_name,
    misfit_calls,
    mistyped_calls,
    relaid_out,
    relaid_out_calls,
    valued,
)


def test_every_public_kernel_has_a_case():
    names = {kernel_name(case) for case in CASES}
    assert names == {n for n in cpu.__all__ if callable(getattr(cpu, n))}


@pytest.mark.parametrize("case", CASES)
def test_the_valid_call_runs(case):
    build = CASES[case][0]
    getattr(cpu, kernel_name(case))(*build())


def refused_before_any_write(error, case, args, says=""):
    outputs = [a.copy() for a in args if isinstance(a, np.ndarray)]
    with pytest.raises(error, match=f"^{kernel_name(case)}: .*{says}"):
        getattr(cpu, kernel_name(case))(*args)
    for before, after in zip(outputs, (a for a in args if isinstance(a, np.ndarray))):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("case, args", misfit_calls())
def test_a_misfit_argument_raises_before_any_write(case, args):
    refused_before_any_write(ValueError, case, args)


@pytest.mark.parametrize("case, args", mistyped_calls())
def test_an_argument_of_a_wrong_dtype_raises_before_any_write(case, args):
    refused_before_any_write(TypeError, case, args)


@pytest.mark.parametrize("case, args", byte_swapped_calls())
def test_a_byte_swapped_argument_raises_before_any_write(case, args):
    refused_before_any_write(TypeError, case, args)


@pytest.mark.filterwarnings("ignore::numba.NumbaPerformanceWarning")  # strided factors of np.dot: README
@pytest.mark.parametrize("case, where", relaid_out_calls())
def test_an_argument_in_another_layout_gives_the_same_results_or_is_refused(case, where):
    """An F-ordered or strided array: a ValueError before any write where the
    kernel needs C-contiguous arrays (C_CONTIGUOUS), else the C-ordered
    call's results; never numba's AssertionError or typing error."""
    name = kernel_name(case)
    kernel = getattr(cpu, name)
    args = valued(CASES[case][0]())
    relaid = dict(relaid_out(args))[where]
    if int(where.split(":")[0]) in C_CONTIGUOUS.get(name, ()):
        refused_before_any_write(ValueError, case, relaid, "must be C-contiguous")
        return
    expected = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    expected_result = kernel(*expected)
    assert kernel(*relaid) == pytest.approx(expected_result, rel=1e-12)
    for a, b in zip(relaid, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_the_layout_error_names_the_array_and_its_layout():
    dx, x, t = np.zeros((4, 3)), np.zeros((4, 3)), np.eye(3)[[0, 1, 2, 0]]
    with pytest.raises(ValueError, match=r"^softmax_cross_entropy: x must be C-contiguous \(got an F-ordered array\)$"):
        cpu.softmax_cross_entropy(dx, np.asfortranarray(x), t)
    with pytest.raises(ValueError, match=r"^softmax_cross_entropy: t must be C-contiguous \(got a strided array\)$"):
        cpu.softmax_cross_entropy(dx, x, np.repeat(t, 2, axis=1)[:, ::2])


class CudaTensorStandIn:
    """What the dtype checks see of a torch CUDA tensor: a dtype that is not
    numpy's, and the __cuda_array_interface__ typestr that says what it is."""

    def __init__(self, typestr, shape, strides=None):
        self.dtype, self.shape, self.ndim = f"torch.{typestr}", shape, len(shape)
        self.__cuda_array_interface__ = {"typestr": typestr, "shape": shape, "strides": strides,
                                         "data": (0, False), "version": 3}


def test_cuda_array_interface_objects_are_checked_by_their_typestr():
    f4, f8 = (CudaTensorStandIn(typestr, (3, 2)) for typestr in ("<f4", "<f8"))
    contracts.check_floats("k", "a and b", f4, np.zeros((3, 2), np.float32))
    contracts.check_mask("k", CudaTensorStandIn("|b1", (3,)))
    contracts.check_targets("k", "t", CudaTensorStandIn("<i4", (3,)), f4)
    contracts.check_targets("k", "t", f4, np.zeros((3, 2), np.float32))
    contracts.check_losses("k", "loss", CudaTensorStandIn("<f8", (1,)))
    refused = [
        lambda: contracts.check_floats("k", "a and b", f4, f8),
        lambda: contracts.check_mask("k", CudaTensorStandIn("|i1", (3,))),
        lambda: contracts.check_targets("k", "t", CudaTensorStandIn("<f4", (3,)), f4),
        lambda: contracts.check_targets("k", "t", f8, f4),
        lambda: contracts.check_losses("k", "loss", CudaTensorStandIn("<f4", (1,))),
    ]
    for call in refused:
        with pytest.raises(TypeError, match="^k: "):
            call()


def test_cuda_array_interface_objects_are_checked_by_their_strides():
    contracts.check_c_contiguous("k", "a and b", CudaTensorStandIn("<f4", (3, 2)),
                                 CudaTensorStandIn("<f4", (3, 2), strides=(8, 4)))
    contracts.check_c_contiguous("k", "a", CudaTensorStandIn("<f8", (3, 1), strides=(8, 64)))  # a length-1 axis
    for strides in ((4, 12), (16, 4)):
        with pytest.raises(ValueError, match=r"^k: b must be C-contiguous \(got a strided array\)$"):
            contracts.check_c_contiguous("k", "a and b", np.zeros(2), CudaTensorStandIn("<f4", (3, 2), strides))


#: The public kernels with a compiled entry point, <name>_compiled, in their module (README, "The kernels").
COMPILED_ENTRY_POINTS = {
    "affine_forward", "affine_relu_forward", "affine_backward_input", "affine_relu_backward_input",
    "affine_backward_params", "column_sums", "relu_forward", "relu_backward", "sigmoid_forward",
    "sigmoid_backward", "count_correct", "cross_entropy", "softmax_cross_entropy_rows",
}


@pytest.mark.parametrize("case", [c for c in CASES if kernel_name(c) in COMPILED_ENTRY_POINTS])
def test_the_compiled_entry_point_gives_the_public_kernels_results(case):
    public = getattr(cpu, kernel_name(case))
    compiled = getattr(sys.modules[public.__module__], kernel_name(case) + "_compiled")
    assert isinstance(compiled, CPUDispatcher)
    args = valued(CASES[case][0]())
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    assert compiled(*copies) == public(*args)
    for a, b in zip(args, copies):
        np.testing.assert_array_equal(a, b)


def test_a_compiled_entry_point_runs_inside_njit_code():
    from fastnp.kernels.cpu.affine import affine_forward_compiled
    from fastnp.kernels.cpu.relu import relu_forward_compiled

    @njit
    def hidden_layer(x, W, b):
        a = np.empty((x.shape[0], W.shape[1]))
        affine_forward_compiled(a, x, W, b)
        out, mask = np.empty(a.size), np.empty(a.size, np.bool_)
        relu_forward_compiled(out, mask, a.reshape(-1))
        return out.reshape(a.shape)

    x, W, b = np.arange(6.0).reshape(2, 3) - 2, np.ones((3, 4)), np.arange(4.0) - 1
    np.testing.assert_array_equal(hidden_layer(x, W, b), np.maximum(x @ W + b, 0))
