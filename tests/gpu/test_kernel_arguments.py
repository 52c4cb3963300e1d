"""The CUDA twins refuse misfit or mistyped arguments as their CPU twins do
(the same contracts, fastnp.kernels._contracts), before any launch: on a
GPU an output shorter than its input would be written past its end."""
import numpy as np
import pytest
from numba import cuda

import fastnp.kernels.cuda as gpu
from kernel_cases import CASES, kernel_name, misfit_calls, mistyped_calls

from .conftest import CAN_RUN, SIMULATED

pytestmark = pytest.mark.skipif(not CAN_RUN, reason="no CUDA GPU here (and NUMBA_ENABLE_CUDASIM is not set)")


def on_device(args):
    return [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]


#: The training loops take 10-20 s each in the simulator; test_kernels.py runs them.
SLOW_IN_THE_SIMULATOR = {"batch_gradient_descent", "stochastic_gradient_descent"}


@pytest.mark.parametrize("case", [c for c in CASES if not (SIMULATED and c in SLOW_IN_THE_SIMULATOR)])
def test_the_valid_call_runs(case):
    getattr(gpu, kernel_name(case))(*on_device(CASES[case][0]()))
    cuda.synchronize()


def refused_before_any_launch(error, case, args):
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    args = on_device(args)
    before = [args[i].copy_to_host() for i in arrays]
    with pytest.raises(error, match=f"^{kernel_name(case)}: "):
        getattr(gpu, kernel_name(case))(*args)
    for i, b in zip(arrays, before):
        np.testing.assert_array_equal(args[i].copy_to_host(), b)


@pytest.mark.parametrize("case, args", misfit_calls())
def test_a_misfit_argument_raises_before_any_launch(case, args):
    refused_before_any_launch(ValueError, case, args)


@pytest.mark.parametrize("case, args", mistyped_calls())
def test_an_argument_of_a_wrong_dtype_raises_before_any_launch(case, args):
    refused_before_any_launch(TypeError, case, args)
