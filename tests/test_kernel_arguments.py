"""Every public CPU kernel refuses arguments whose shapes do not fit together.

Without these checks a kernel called directly (fastnp.kernels.cpu) with an
output shorter than its input wrote past the output's end: a silent wrong
answer, or a corrupted heap and a crash later.  The CUDA twins make the same
checks (tests/gpu/test_kernel_arguments.py).
"""
import numpy as np
import pytest

import fastnp.kernels.cpu as cpu
from kernel_cases import CASES, kernel_name, misfit_calls


def test_every_public_kernel_has_a_case():
    names = {kernel_name(case) for case in CASES}
    assert names == {n for n in cpu.__all__ if callable(getattr(cpu, n))}


@pytest.mark.parametrize("case", CASES)
def test_the_valid_call_runs(case):
    build = CASES[case][0]
    getattr(cpu, kernel_name(case))(*build())


@pytest.mark.parametrize("case, args", misfit_calls())
def test_a_misfit_argument_raises_before_any_write(case, args):
    outputs = [a.copy() for a in args if isinstance(a, np.ndarray)]
    with pytest.raises(ValueError, match=f"^{kernel_name(case)}: "):
        getattr(cpu, kernel_name(case))(*args)
    for before, after in zip(outputs, (a for a in args if isinstance(a, np.ndarray))):
        np.testing.assert_array_equal(after, before)  # refused before touching anything
