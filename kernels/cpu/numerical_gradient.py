"""Numerical gradient of the two-layer net's loss, without redundant work.

Definition (the textbook's): for every element w of W1, b1, W2, b2,
    g = (loss(w + h) - loss(w - h)) / (2 h),
with loss = mean_n CE(softmax(relu(x W1 + b1) W2 + b2)_n, t_n)
            + 0.5 reg (sum W1^2 + sum W2^2),
CE(p, t) = -sum_c t_c log(p_c + 1e-9), and w + h, w - h rounded to the
parameter dtype as storing them would.

The textbook recomputes the whole network twice per element.  Here:
- A perturbation of W1[i, j] or b1[j] moves only hidden unit j, by at most
  h |x[n, i]| in row n; rows where unit j stays dead are skipped, and each
  other row's loss difference is L_n(s_n + dp v) - L_n(s_n + dm v), with
  v = W2[j] and dp, dm the changes of the unit's activation.
- For the small steps that h gives, those differences come from series
  precomputed once per (row, unit): Z(d) = sum_c e_c exp(d v_c) =
  sum_k d^k M_k with M_k = sum_c e_c v_c^k / k!, exp(d v_y) by its Taylor
  series and log((p+ + 1e-9) / (p- + 1e-9)) by the series of log1p.  Each
  series is cut at degree 6, used only where |d v| <= 1e-3 and the log1p
  argument is at most 4e-3 (bounded before the loop), so the truncation is
  below 1e-17 relative: the result equals the exact difference to rounding.
  The loop over the D inputs then has no exp, no log and no branch, and
  vectorizes.  Rows outside those bounds (large weights or inputs) take the
  exact path, with exp and log.
- A perturbation of W2[j, c] or b2[c] moves only score column c; rows where
  hidden unit j is 0 are skipped (there are only (H + 1) C such elements).
Rows a perturbation does not reach contribute exactly zero.  The
regularization difference is 0.5 reg ((w + h)^2 - (w - h)^2).
"""
import numba
import numpy as np
from numba import njit, prange

from .._contracts import (
    check_c_contiguous,
    check_floats,
    check_two_layer_numerical_gradient,
)
from ._threads import chunk_bounds, use_threads
from .affine import affine_forward_compiled
from .cross_entropy import LOG_GUARD
from .relu import relu_forward_compiled

#: Largest bound on |log1p argument| (4 * step * max|x| * max|v|) for the series path.
SERIES_LIMIT = 4e-3


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
def _add_row_exact(diff, x, dplus, dminus, a_nj, h_nj, s, t, v):
    """diff[i] += L(s + dp_i v) - L(s + dm_i v) for one row, with exp and log.

    x: (D + 1,) the row with a trailing 1 (for b1); dplus, dminus: (D + 1,)
    the actual steps of W1[:, j] and b1[j]; a_nj, h_nj: the unit's input and
    output in this row; s, t: (C,) scores and targets; v: (C,) = W2[j].
    """
    for i in range(x.shape[0]):
        hp = max(a_nj + x[i] * dplus[i], 0.0)
        hm = max(a_nj + x[i] * dminus[i], 0.0)
        if hp != h_nj or hm != h_nj:
            diff[i] += _row_loss_shifted(s, t, v, hp - h_nj) - _row_loss_shifted(s, t, v, hm - h_nj)


@njit(cache=True, fastmath={"contract"}, error_model="numpy")
def _add_row_series(diff, x, dplus, dminus, a_nj, h_nj, e, z, t, v):
    """As _add_row_exact, from series (see the module docstring).

    e: (C,) exp(s - max s) of the row and z their sum.
    """
    C = e.shape[0]
    M1 = M2 = M3 = M4 = M5 = M6 = 0.0
    for c in range(C):
        ev = e[c] * v[c]
        M1 += ev
        M2 += ev * v[c]
        M3 += ev * v[c] * v[c]
        M4 += ev * v[c] * v[c] * v[c]
        M5 += ev * v[c] * v[c] * v[c] * v[c]
        M6 += ev * v[c] * v[c] * v[c] * v[c] * v[c]
    M2, M3, M4, M5, M6 = M2 / 2, M3 / 6, M4 / 24, M5 / 120, M6 / 720
    for y in range(C):
        if t[y] == 0.0:
            continue
        ty, ey, vy = t[y], e[y], v[y]
        for i in range(x.shape[0]):
            dp = max(a_nj + x[i] * dplus[i], 0.0) - h_nj
            dm = max(a_nj + x[i] * dminus[i], 0.0) - h_nj
            zp = z + dp * (M1 + dp * (M2 + dp * (M3 + dp * (M4 + dp * (M5 + dp * M6)))))
            zm = z + dm * (M1 + dm * (M2 + dm * (M3 + dm * (M4 + dm * (M5 + dm * M6)))))
            qp, qm = dp * vy, dm * vy
            ep = 1.0 + qp * (1.0 + qp * (1 / 2 + qp * (1 / 6 + qp * (1 / 24 + qp * (1 / 120 + qp / 720)))))
            em = 1.0 + qm * (1.0 + qm * (1 / 2 + qm * (1 / 6 + qm * (1 / 24 + qm * (1 / 120 + qm / 720)))))
            pp, pm = ey * ep / zp, ey * em / zm
            r = (pp - pm) / (pm + LOG_GUARD)
            diff[i] -= ty * r * (1.0 - r * (1 / 2 - r * (1 / 3 - r * (1 / 4 - r * (1 / 5 - r / 6)))))


@njit(cache=True)
def _first_layer_range(gW1, gb1, Xa, x_reach, Wa, a, hid, s, e, z, t, W2, reg, h, j_lo, j_hi):
    """W1[:, j] and b1[j] for hidden units j_lo <= j < j_hi.

    Xa: (N, D + 1) inputs with a trailing column of ones; x_reach: (N,)
    max |Xa[n]|; Wa: (H, D + 1) = [W1; b1].T; a, hid: (N, H) the hidden
    unit's input and output; s, e: (N, C) scores and exp(s - row max);
    z: (N,) row sums of e.
    """
    N, D1 = Xa.shape
    plus = np.empty(D1, Wa.dtype)
    minus = np.empty(D1, Wa.dtype)
    dplus = np.empty(D1)
    dminus = np.empty(D1)
    diff = np.empty(D1)
    for j in range(j_lo, j_hi):
        step = 0.0
        for i in range(D1):
            plus[i] = Wa[j, i] + h
            minus[i] = Wa[j, i] - h
            dplus[i] = plus[i] - Wa[j, i]
            dminus[i] = minus[i] - Wa[j, i]
            step = max(step, abs(dplus[i]), abs(dminus[i]))
            diff[i] = 0.0
        v = W2[j]
        v_max = np.max(np.abs(v))
        for n in range(N):
            reach = step * x_reach[n]
            if a[n, j] + reach <= 0.0:
                continue  # unit j stays dead in row n whatever the step
            if 4.0 * reach * v_max <= SERIES_LIMIT:
                _add_row_series(diff, Xa[n], dplus, dminus, a[n, j], hid[n, j], e[n], z[n], t[n], v)
            else:
                _add_row_exact(diff, Xa[n], dplus, dminus, a[n, j], hid[n, j], s[n], t[n], v)
        for i in range(D1 - 1):
            gW1[i, j] = (diff[i] / N + 0.5 * reg * (plus[i] * plus[i] - minus[i] * minus[i])) / (2 * h)
        gb1[j] = diff[D1 - 1] / N / (2 * h)


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


@njit(cache=True)
def _row_exp(e, z, s):
    """e = exp(s - row max), z = row sums of e.  e, s: (N, C); z: (N,)."""
    N, C = s.shape
    for n in range(N):
        m = s[n].max()
        z[n] = 0.0
        for c in range(C):
            e[n, c] = np.exp(s[n, c] - m)
            z[n] += e[n, c]


@njit(cache=True, parallel=True)
def _all_elements_parallel(gW1, gb1, gW2, gb2, Xa, x_reach, Wa, a, hid, s, e, z, t, unit, W2, b2, reg, h,
                           n_chunks):
    H, C = W2.shape
    for k in prange(n_chunks):
        lo, hi = chunk_bounds(H, n_chunks, k)
        _first_layer_range(gW1, gb1, Xa, x_reach, Wa, a, hid, s, e, z, t, W2, reg, h, lo, hi)
        lo, hi = chunk_bounds((H + 1) * C, n_chunks, k)
        _second_layer_range(gW2, gb2, t, hid, s, unit, W2, b2, reg, h, lo, hi)


def two_layer_numerical_gradient(gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2, reg, h=1e-4):
    """Central-difference gradient of the two-layer net's loss for every parameter.

    Outputs gW1: (D, H), gb1: (H,), gW2: (H, C), gb2: (C,).  Inputs x: (N, D),
    t: (N, C) targets, W1: (D, H), b1: (H,), W2: (H, C), b2: (C,), all one
    float dtype; reg the L2 strength, h the step.  Losses are evaluated in
    float64.  Each output element is computed independently, so the result
    does not depend on the thread count.
    """
    check_floats("two_layer_numerical_gradient", "gW1, gb1, gW2, gb2, x, t, W1, b1, W2 and b2",
                 gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2)
    check_c_contiguous("two_layer_numerical_gradient", "gW1, gb1, gW2, gb2, x, t, W1, b1, W2 and b2",
                       gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2)
    check_two_layer_numerical_gradient.py_func(gW1.shape, gb1.shape, gW2.shape, gb2.shape, x.shape, t.shape,
                                               W1.shape, b1.shape, W2.shape, b2.shape)
    N, D = x.shape
    H, C = W2.shape
    a = np.empty((N, H), x.dtype)
    hid = np.empty_like(a)
    s = np.empty((N, C), x.dtype)
    affine_forward_compiled(a, x, W1, b1)  # dtypes checked above
    relu_forward_compiled(hid.reshape(-1), np.empty(a.size, np.bool_), a.reshape(-1))
    affine_forward_compiled(s, hid, W2, b2)
    e, z = np.empty((N, C)), np.empty(N)
    _row_exp(e, z, s)
    Xa = np.ones((N, D + 1))
    Xa[:, :D] = x
    x_reach = np.abs(Xa).max(axis=1)
    Wa = np.empty((H, D + 1), W1.dtype)
    Wa[:, :D] = W1.T
    Wa[:, D] = b1
    unit = np.eye(C, dtype=x.dtype)
    args = (gW1, gb1, gW2, gb2, Xa, x_reach, Wa, a, hid, s, e, z, t, unit, W2, b2, reg, h)
    if use_threads(N * (D + C) * H):
        _all_elements_parallel(*args, max(H, numba.get_num_threads()))
    else:
        _first_layer_range(gW1, gb1, Xa, x_reach, Wa, a, hid, s, e, z, t, W2, reg, h, 0, H)
        _second_layer_range(gW2, gb2, t, hid, s, unit, W2, b2, reg, h, 0, (H + 1) * C)
