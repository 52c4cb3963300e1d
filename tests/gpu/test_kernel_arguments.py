"""The CUDA twins refuse misfit or mistyped arguments, and the memory layouts
their CPU twins refuse, as their CPU twins do (the same contracts,
fastnp.kernels._contracts), before any launch: on a GPU an output shorter
than its input would be written past its end, and an F-ordered output of
the softmax and fused-loss kernels got wrong rows."""
import numpy as np
import pytest
from numba import cuda

import fastnp.kernels.cuda as gpu
from kernel_cases import C_CONTIGUOUS, CASES, kernel_name, misfit_calls, mistyped_calls, relaid_out_calls, valued

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


def refused_before_any_launch(error, case, args, says=""):
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    args = on_device(args)
    before = [args[i].copy_to_host() for i in arrays]
    with pytest.raises(error, match=f"^{kernel_name(case)}: .*{says}"):
        getattr(gpu, kernel_name(case))(*args)
    for i, b in zip(arrays, before):
        np.testing.assert_array_equal(args[i].copy_to_host(), b)


@pytest.mark.parametrize("case, args", misfit_calls())
def test_a_misfit_argument_raises_before_any_launch(case, args):
    refused_before_any_launch(ValueError, case, args)


@pytest.mark.parametrize("case, args", mistyped_calls())
def test_an_argument_of_a_wrong_dtype_raises_before_any_launch(case, args):
    refused_before_any_launch(TypeError, case, args)


def relaid_on_device(args, where):
    """args on the device with argument `where` ("position:layout") F-ordered, or
    strided: a view of every other element of a larger device array (a strided
    host array cannot be copied to the device)."""
    position, layout = where.split(":")
    position = int(position)
    device = on_device(args)
    a = args[position]
    if layout == "F":
        device[position] = cuda.to_device(np.asfortranarray(a))
    else:  # numba's device arrays take no Ellipsis (the simulator's do): a slice per axis
        every_other = (slice(None),) * (a.ndim - 1) + (slice(None, None, 2),)
        device[position] = cuda.to_device(np.repeat(a, 2, axis=-1))[every_other]
    return device


def device_relaid_calls():
    """relaid_out_calls, one layout an argument (the simulator is slow): F-ordered
    for 2-D arrays, strided for 1-D ones; not the loops in the simulator."""
    calls = [p for p in relaid_out_calls() if not (SIMULATED and p.values[0] in SLOW_IN_THE_SIMULATOR)]
    two_d = {(p.values[0], p.values[1].split(":")[0]) for p in calls if p.values[1].endswith(":F")}
    return [p for p in calls if p.values[1].endswith(":F") or (p.values[0], p.values[1].split(":")[0]) not in two_d]


@pytest.mark.parametrize("case, where", device_relaid_calls())
def test_an_argument_in_another_layout_gives_the_same_results_or_is_refused(case, where):
    """As on the CPU (tests/test_kernel_arguments.py), with device arrays."""
    name = kernel_name(case)
    kernel = getattr(gpu, name)
    args = valued(CASES[case][0]())
    relaid = relaid_on_device(args, where)
    position = int(where.split(":")[0])
    if position in C_CONTIGUOUS.get(name, ()):
        before = relaid[position].copy_to_host()
        with pytest.raises(ValueError, match=f"^{name}: .* must be C-contiguous"):
            kernel(*relaid)
        np.testing.assert_array_equal(relaid[position].copy_to_host(), before)
        return
    expected = on_device(args)
    expected_result = kernel(*expected)
    result = kernel(*relaid)
    cuda.synchronize()
    assert result == pytest.approx(expected_result, rel=1e-12)
    for a, b in zip(relaid, expected):
        if hasattr(b, "copy_to_host"):
            np.testing.assert_allclose(a.copy_to_host(), b.copy_to_host(), rtol=1e-12)
