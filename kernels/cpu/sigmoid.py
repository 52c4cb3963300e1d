"""Sigmoid forward and backward on flat arrays (layers pass ravelled views).

Each kernel is compiled as <name>_compiled (shape checks); <name> checks
dtypes first, from Python.
"""
import numpy as np
from numba import njit

from .._contracts import check_floats, check_sigmoid_backward, check_sigmoid_forward
from .fast_math import fast_exp


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def sigmoid_forward_compiled(out, x):
    check_sigmoid_forward(out.shape, x.shape)
    for i in range(np.uint64(x.shape[0])):
        v = x[i]
        e = fast_exp(-abs(v))
        r = 1.0 / (1.0 + e)
        out[i] = r if v >= 0.0 else e * r


def sigmoid_forward(out, x):
    """out = 1 / (1 + exp(-x)), with no overflow for any x.

    out, x: (n,), one float dtype.  With e = exp(-|x|) (never above 1):
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0.  Branch-free with
    fast_exp, so the loop vectorizes; NaN stays NaN.
    """
    check_floats("sigmoid_forward", "out and x", out, x)
    sigmoid_forward_compiled(out, x)


@njit(cache=True, error_model="numpy")
def sigmoid_backward_compiled(dx, dout, out):
    check_sigmoid_backward(dx.shape, dout.shape, out.shape)
    for i in range(np.uint64(out.shape[0])):
        dx[i] = dout[i] * (1.0 - out[i]) * out[i]


def sigmoid_backward(dx, dout, out):
    """dx = dout * (1 - out) * out, out being the forward result.  All (n,), one float dtype."""
    check_floats("sigmoid_backward", "dx, dout and out", dx, dout, out)
    sigmoid_backward_compiled(dx, dout, out)
