"""Numerical gradient of the two-layer net's loss on the GPU (twin of
fastnp.kernels.cpu.numerical_gradient; the definition is in its docstring).

One thread per parameter element, grid-stride: (D + 1) * H threads for
[W1; b1] (neighbouring threads take neighbouring hidden units, so their
reads of W1, a and hid are coalesced and x[n, i] is a broadcast) and
(H + 1) * C for [W2; b2].  As on the CPU, an element revisits only what its
perturbation moves: for W1[i, j] and b1[j], the rows where hidden unit j
changes, each a loss difference along W2[j]; for W2[j, c] and b2[c], score
column c in the rows where unit j is live.  The GPU computes every
difference exactly, with exp and log in float64 (no series: the exp and
log units make that cheap), so its result equals the CPU's to rounding.
"""
import functools
import math

import numpy as np
from numba import cuda, float32, float64

from .._contracts import (
    check_c_contiguous,
    check_floats,
    check_two_layer_numerical_gradient,
)
from ._launch import grid_1d
from .affine import affine_forward
from .cross_entropy import LOG_GUARD
from .relu import relu_forward


@cuda.jit(device=True)
def _row_loss_shifted(s, t, n, v, j, delta):
    """-sum_c t[n, c] log(softmax(s[n] + delta v[j])[c] + 1e-9), in float64.

    s, t: (N, C) scores and targets; v: (J, C) the directions (W2, or the
    identity for a single score column).
    """
    C = s.shape[1]
    m = s[n, 0] + delta * v[j, 0]
    for c in range(1, C):
        m = max(m, s[n, c] + delta * v[j, c])
    z = 0.0
    for c in range(C):
        z += math.exp(s[n, c] + delta * v[j, c] - m)
    loss = 0.0
    for c in range(C):
        if t[n, c] != 0.0:
            loss -= t[n, c] * math.log(math.exp(s[n, c] + delta * v[j, c] - m) / z + LOG_GUARD)
    return loss


@functools.lru_cache(maxsize=None)
def _kernels(dtype_name):
    """The two kernels for parameters of dtype_name; w + h is rounded to it as storing it would."""
    as_param = float32 if dtype_name == "float32" else float64

    @cuda.jit
    def first_layer(gW1, gb1, x, t, W1, b1, W2, a, hid, s, reg, h):
        N, D = x.shape
        H = W1.shape[1]
        for k in range(cuda.grid(1), (D + 1) * H, cuda.gridsize(1)):
            i, j = k // H, k % H
            w = float64(W1[i, j]) if i < D else float64(b1[j])
            w_plus, w_minus = float64(as_param(w + h)), float64(as_param(w - h))
            diff = 0.0
            for n in range(N):
                x_ni = float64(x[n, i]) if i < D else 1.0
                a_nj, h_nj = float64(a[n, j]), float64(hid[n, j])
                hp = max(a_nj + x_ni * (w_plus - w), 0.0)
                hm = max(a_nj + x_ni * (w_minus - w), 0.0)
                if hp != h_nj or hm != h_nj:  # else unit j does not move in row n
                    diff += (_row_loss_shifted(s, t, n, W2, j, hp - h_nj)
                             - _row_loss_shifted(s, t, n, W2, j, hm - h_nj))
            if i < D:
                gW1[i, j] = (diff / N + 0.5 * reg * (w_plus * w_plus - w_minus * w_minus)) / (2 * h)
            else:
                gb1[j] = diff / N / (2 * h)

    @cuda.jit
    def second_layer(gW2, gb2, t, hid, s, unit, W2, b2, reg, h):
        H, C = W2.shape
        N = hid.shape[0]
        for k in range(cuda.grid(1), (H + 1) * C, cuda.gridsize(1)):
            j, c = k // C, k % C
            is_bias = j == H
            w = float64(b2[c]) if is_bias else float64(W2[j, c])
            w_plus, w_minus = float64(as_param(w + h)), float64(as_param(w - h))
            diff = 0.0
            for n in range(N):
                h_nj = 1.0 if is_bias else float64(hid[n, j])
                if h_nj != 0.0:
                    diff += (_row_loss_shifted(s, t, n, unit, c, h_nj * (w_plus - w))
                             - _row_loss_shifted(s, t, n, unit, c, h_nj * (w_minus - w)))
            diff /= N
            if is_bias:
                gb2[c] = diff / (2 * h)
            else:
                gW2[j, c] = (diff + 0.5 * reg * (w_plus * w_plus - w_minus * w_minus)) / (2 * h)

    return first_layer, second_layer


def two_layer_numerical_gradient(gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2, reg, h=1e-4):
    """Central-difference gradient of the two-layer net's loss for every parameter.

    Device arrays: outputs gW1: (D, H), gb1: (H,), gW2: (H, C), gb2: (C,);
    inputs x: (N, D), t: (N, C), W1: (D, H), b1: (H,), W2: (H, C), b2: (C,),
    one float dtype; reg the L2 strength, h the step.
    """
    check_floats("two_layer_numerical_gradient", "gW1, gb1, gW2, gb2, x, t, W1, b1, W2 and b2",
                 gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2)
    check_c_contiguous("two_layer_numerical_gradient", "gW1, gb1, gW2, gb2, x, t, W1, b1, W2 and b2",
                       gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2)
    check_two_layer_numerical_gradient.py_func(gW1.shape, gb1.shape, gW2.shape, gb2.shape, x.shape, t.shape,
                                               W1.shape, b1.shape, W2.shape, b2.shape)
    N, D = x.shape
    H, C = W2.shape
    a = cuda.device_array((N, H), x.dtype)
    hid = cuda.device_array((N, H), x.dtype)
    s = cuda.device_array((N, C), x.dtype)
    affine_forward(a, x, W1, b1)
    relu_forward(hid.reshape(N * H), cuda.device_array(N * H, np.bool_), a.reshape(N * H))
    affine_forward(s, hid, W2, b2)
    unit = cuda.to_device(np.eye(C, dtype=x.dtype))
    first_layer, second_layer = _kernels(np.dtype(x.dtype).name)
    blocks, threads = grid_1d((D + 1) * H)
    first_layer[blocks, threads](gW1, gb1, x, t, W1, b1, W2, a, hid, s, reg, h)
    blocks, threads = grid_1d((H + 1) * C)
    second_layer[blocks, threads](gW2, gb2, t, hid, s, unit, W2, b2, reg, h)
