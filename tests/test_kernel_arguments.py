"""Every public CPU kernel refuses arguments whose shapes do not fit
together, or whose dtypes are not the ones it computes in.

Without these checks a kernel called directly (fastnp.kernels.cpu) with an
output shorter than its input wrote past the output's end: a silent wrong
answer, or a corrupted heap and a crash later; and an integer output took
the results rounded toward zero without a word.  The CUDA twins make the
same checks (tests/gpu/test_kernel_arguments.py).
"""
import numpy as np
import pytest

import fastnp.kernels._contracts as contracts
import fastnp.kernels.cpu as cpu
from kernel_cases import CASES, kernel_name, misfit_calls, mistyped_calls


def test_every_public_kernel_has_a_case():
    names = {kernel_name(case) for case in CASES}
    assert names == {n for n in cpu.__all__ if callable(getattr(cpu, n))}


@pytest.mark.parametrize("case", CASES)
def test_the_valid_call_runs(case):
    build = CASES[case][0]
    getattr(cpu, kernel_name(case))(*build())


def refused_before_any_write(error, case, args):
    outputs = [a.copy() for a in args if isinstance(a, np.ndarray)]
    with pytest.raises(error, match=f"^{kernel_name(case)}: "):
        getattr(cpu, kernel_name(case))(*args)
    for before, after in zip(outputs, (a for a in args if isinstance(a, np.ndarray))):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("case, args", misfit_calls())
def test_a_misfit_argument_raises_before_any_write(case, args):
    refused_before_any_write(ValueError, case, args)


@pytest.mark.parametrize("case, args", mistyped_calls())
def test_an_argument_of_a_wrong_dtype_raises_before_any_write(case, args):
    refused_before_any_write(TypeError, case, args)


class CudaTensorStandIn:
    """What the dtype checks see of a torch CUDA tensor: a dtype that is not
    numpy's, and the __cuda_array_interface__ typestr that says what it is."""

    def __init__(self, typestr, shape):
        self.dtype, self.shape, self.ndim = f"torch.{typestr}", shape, len(shape)
        self.__cuda_array_interface__ = {"typestr": typestr, "shape": shape, "data": (0, False), "version": 3}


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
