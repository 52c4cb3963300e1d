"""Numerical gradient of the two-layer net's loss, without redundant work.

Definition (the textbook's): for every element w of W1, b1, W2, b2,
    g = (loss(w + h) - loss(w - h)) / (2 h),
with loss = mean_n CE(softmax(relu(x W1 + b1) W2 + b2)_n, t_n)
            + 0.5 reg (sum W1^2 + sum W2^2).

The textbook recomputes the whole network twice per element.  A perturbation
of W1[i, j] or b1[j] moves only hidden unit j, and only in the rows where it
is (or becomes) active; one of W2[j, c] or b2[c] moves only score column c.
So each element costs one row loss per affected row instead of two full
forward passes, and the regularization difference is 0.5 reg ((w+h)^2 - (w-h)^2).
Rows a perturbation does not reach contribute exactly zero to the difference.
"""
import numba
import numpy as np
from numba import njit, prange

from ._threads import chunk_bounds, use_threads
from .affine import affine_forward
from .cross_entropy import LOG_GUARD
from .relu import relu_forward


@njit(cache=True)
def _row_loss_shifted(s, t, v, delta):
    """-sum_c t[c] log(softmax(s + delta v)[c] + 1e-9) for one row.  s, t, v: (C,)."""
    C = s.shape[0]
    m = s[0] + delta * v[0]
    for c in range(1, C):
        m = max(m, s[c] + delta * v[c])
    z = 0.0
    for c in range(C):
        z += np.exp(s[c] + delta * v[c] - m)
    loss = 0.0
    for c in range(C):
        if t[c] != 0.0:
            loss -= t[c] * np.log(np.exp(s[c] + delta * v[c] - m) / z + LOG_GUARD)
    return loss


@njit(cache=True)
def _step(stepped, w, h):
    """(w + h, w - h) rounded to the parameter dtype, as storing them in the array would."""
    stepped[0] = w + h
    stepped[1] = w - h
    return stepped[0], stepped[1]


@njit(cache=True)
def _first_layer_range(gW1, gb1, xT, t, a, hid, s, W1, b1, W2, reg, h, k_lo, k_hi):
    """Elements k_lo..k_hi of [W1; b1] flattened as (D + 1, H): row D is b1."""
    D, H = W1.shape
    N = xT.shape[1]
    stepped = np.empty(2, W1.dtype)
    for k in range(k_lo, k_hi):
        i, j = k // H, k % H
        is_bias = i == D
        w = b1[j] if is_bias else W1[i, j]
        w_plus, w_minus = _step(stepped, w, h)
        diff = 0.0
        for n in range(N):
            x_ni = 1.0 if is_bias else xT[i, n]
            h_plus = max(a[n, j] + x_ni * (w_plus - w), 0.0)
            h_minus = max(a[n, j] + x_ni * (w_minus - w), 0.0)
            if h_plus == hid[n, j] and h_minus == hid[n, j]:
                continue
            diff += (_row_loss_shifted(s[n], t[n], W2[j], h_plus - hid[n, j])
                     - _row_loss_shifted(s[n], t[n], W2[j], h_minus - hid[n, j]))
        diff /= N
        if is_bias:
            gb1[j] = diff / (2 * h)
        else:
            gW1[i, j] = (diff + 0.5 * reg * (w_plus * w_plus - w_minus * w_minus)) / (2 * h)


@njit(cache=True)
def _second_layer_range(gW2, gb2, t, hid, s, unit, W2, b2, reg, h, k_lo, k_hi):
    """Elements k_lo..k_hi of [W2; b2] flattened as (H + 1, C): row H is b2.

    unit: (C, C) identity; unit[c] is the direction score column c moves in.
    """
    H, C = W2.shape
    N = hid.shape[0]
    stepped = np.empty(2, W2.dtype)
    for k in range(k_lo, k_hi):
        j, c = k // C, k % C
        is_bias = j == H
        w = b2[c] if is_bias else W2[j, c]
        w_plus, w_minus = _step(stepped, w, h)
        diff = 0.0
        for n in range(N):
            h_nj = 1.0 if is_bias else hid[n, j]
            if h_nj == 0.0:
                continue
            diff += (_row_loss_shifted(s[n], t[n], unit[c], h_nj * (w_plus - w))
                     - _row_loss_shifted(s[n], t[n], unit[c], h_nj * (w_minus - w)))
        diff /= N
        if is_bias:
            gb2[c] = diff / (2 * h)
        else:
            gW2[j, c] = (diff + 0.5 * reg * (w_plus * w_plus - w_minus * w_minus)) / (2 * h)


@njit(cache=True, parallel=True)
def _all_elements_parallel(gW1, gb1, gW2, gb2, xT, t, a, hid, s, unit, W1, b1, W2, b2, reg, h, n_chunks):
    n_first = (W1.shape[0] + 1) * W1.shape[1]
    n_second = (W2.shape[0] + 1) * W2.shape[1]
    for k in prange(n_chunks):
        lo, hi = chunk_bounds(n_first, n_chunks, k)
        _first_layer_range(gW1, gb1, xT, t, a, hid, s, W1, b1, W2, reg, h, lo, hi)
        lo, hi = chunk_bounds(n_second, n_chunks, k)
        _second_layer_range(gW2, gb2, t, hid, s, unit, W2, b2, reg, h, lo, hi)


def two_layer_numerical_gradient(gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2, reg, h=1e-4):
    """Central-difference gradient of the two-layer net's loss for every parameter.

    Outputs gW1: (D, H), gb1: (H,), gW2: (H, C), gb2: (C,).  Inputs x: (N, D),
    t: (N, C) targets, W1: (D, H), b1: (H,), W2: (H, C), b2: (C,), all one
    float dtype; reg the L2 strength, h the step.  Each output element is
    computed independently, so the result does not depend on the thread count.
    """
    N, H, C = x.shape[0], W1.shape[1], W2.shape[1]
    a = np.empty((N, H), x.dtype)
    hid = np.empty_like(a)
    s = np.empty((N, C), x.dtype)
    affine_forward(a, x, W1, b1)
    relu_forward(hid.reshape(-1), np.empty(a.size, np.bool_), a.reshape(-1))
    affine_forward(s, hid, W2, b2)
    xT = np.ascontiguousarray(x.T)
    unit = np.eye(C, dtype=x.dtype)
    args = (gW1, gb1, gW2, gb2, xT, t, a, hid, s, unit, W1, b1, W2, b2, reg, h)
    n_first = (W1.shape[0] + 1) * H
    n_second = (H + 1) * C
    if use_threads(N * C * (n_first + n_second)):
        _all_elements_parallel(*args, 8 * numba.get_num_threads())
    else:
        _first_layer_range(gW1, gb1, xT, t, a, hid, s, W1, b1, W2, reg, h, 0, n_first)
        _second_layer_range(gW2, gb2, t, hid, s, unit, W2, b2, reg, h, 0, n_second)
