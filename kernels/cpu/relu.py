"""ReLU forward and backward on flat arrays (layers pass ravelled views).

Each kernel is compiled as <name>_compiled (shape checks); <name> checks
dtypes first, from Python.
"""
from numba import njit

from .._contracts import (
    check_floats,
    check_mask,
    check_relu_backward,
    check_relu_forward,
)


@njit(cache=True)
def relu_forward_compiled(out, mask, x):
    check_relu_forward(out.shape, mask.shape, x.shape)
    for i in range(x.shape[0]):
        dead = x[i] <= 0.0
        mask[i] = dead
        out[i] = 0.0 if dead else x[i]


def relu_forward(out, mask, x):
    """out = max(x, 0); mask = (x <= 0), the textbook's Relu.mask.

    out, x: (n,), one float dtype; mask: (n,) bool.  NaN passes through
    (NaN <= 0 is False).
    """
    check_floats("relu_forward", "out and x", out, x)
    check_mask("relu_forward", mask)
    relu_forward_compiled(out, mask, x)


@njit(cache=True)
def relu_backward_compiled(dx, dout, mask):
    check_relu_backward(dx.shape, dout.shape, mask.shape)
    for i in range(dout.shape[0]):
        dx[i] = 0.0 if mask[i] else dout[i]


def relu_backward(dx, dout, mask):
    """dx = dout where the input was positive, else 0.  dx, dout: (n,), one float dtype; mask: (n,) bool."""
    check_floats("relu_backward", "dx and dout", dx, dout)
    check_mask("relu_backward", mask)
    relu_backward_compiled(dx, dout, mask)
