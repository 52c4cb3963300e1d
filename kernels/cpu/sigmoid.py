"""Sigmoid forward and backward on flat arrays (layers pass ravelled views)."""
import numpy as np
from numba import njit


@njit(cache=True)
def sigmoid_forward(out, x):
    """out = 1 / (1 + exp(-x)), with no overflow for any x.

    out, x: (n,) float.  For x < 0 it uses exp(x) / (1 + exp(x)), so exp only
    ever sees non-positive arguments.
    """
    for i in range(x.shape[0]):
        v = x[i]
        if v >= 0.0:
            out[i] = 1.0 / (1.0 + np.exp(-v))
        else:
            e = np.exp(v)
            out[i] = e / (1.0 + e)  # NaN also lands here and stays NaN


@njit(cache=True)
def sigmoid_backward(dx, dout, out):
    """dx = dout * (1 - out) * out, out being the forward result.  All (n,) float."""
    for i in range(out.shape[0]):
        dx[i] = dout[i] * (1.0 - out[i]) * out[i]
