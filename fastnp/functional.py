"""The linear softmax classifier of the course: functions, not layers.

Every function checks and converts its arguments (fastnp._checks), calls a
compiled kernel, and never writes to the caller's arrays.

device: None runs where the array arguments live (the GPU if any of them is
a GPU array), "cpu" or "cuda" moves them there (fastnp._device).  On the
GPU, array results are numba device arrays (.copy_to_host() brings them
back) and losses are floats.
"""
import numpy as np

from fastnp import _device
from fastnp._checks import as_bias, check_cols, count, float_dtype, real


def softmax(x, device=None):
    """Row-wise softmax of scores x: (N, C) or (C,), same shape out.

    Stable for any finite scores (the row maximum is subtracted first); each
    row sums to 1.  A NaN in a row makes that row NaN.
    """
    on = _device.resolve(device, x)
    rows, single = _device.as_rows(on, x, "x")
    out = _device.empty(on, rows.shape, rows.dtype)
    _device.kernels(on).softmax_rows(out, rows)
    return out[0] if single else out


def cross_entropy_loss(prob, target, device=None):
    """-sum(target * log(prob + 1e-9)) / N, the course's averaged cross-entropy.

    prob: (N, C) probabilities (or one (C,) row); target: (N, C) one-hot or
    soft targets, or N integer labels.  Returns a float.
    """
    on = _device.resolve(device, prob, target)
    prob, _ = _device.as_rows(on, prob, "prob")
    t = _device.as_targets(on, target, "target", prob.shape[0], prob.shape[1], prob.dtype)
    return _device.kernels(on).cross_entropy(prob, t)


def _linear_args(on, X, W, b):
    dtype = float_dtype(X, W, b)
    X, single = _device.as_rows(on, X, "X", dtype)
    W = _device.as_float(on, W, "W", dtype, ndims=(2,))
    check_cols(X, W.shape[0], "X", "W", W.shape)
    b = as_bias(_device.to_host(b), W.shape[1], "b", dtype)
    return X, single, W, (_device.as_float(on, b, "b") if on == "cuda" else b)


def linear_pred(X, W, b, device=None):
    """Scores X @ W + b before softmax.  X: (N, D) or (D,), W: (D, C), b: (C,) or (1, C).

    Column c of W is the classifier of class c.  Returns (N, C), or (C,) for a 1-D X.
    """
    on = _device.resolve(device, X, W, b)
    X, single, W, b = _linear_args(on, X, W, b)
    out = _device.empty(on, (X.shape[0], W.shape[1]), X.dtype)
    _device.kernels(on).affine_forward(out, X, W, b)
    return out[0] if single else out


linear_predict = linear_pred


def linear_cost_func(X, Y, W, b, device=None):
    """cross_entropy_loss(softmax(linear_pred(X, W, b)), Y) as a float.

    X: (N, D), Y: (N, C) one-hot or N labels, W: (D, C), b: (C,) or (1, C).
    """
    on = _device.resolve(device, X, Y, W, b)
    k = _device.kernels(on)
    X, _, W, b = _linear_args(on, X, W, b)
    scores = _device.empty(on, (X.shape[0], W.shape[1]), X.dtype)
    k.affine_forward(scores, X, W, b)
    Y = _device.as_targets(on, Y, "Y", X.shape[0], W.shape[1], X.dtype)
    return k.softmax_cross_entropy(scores, scores, Y)


def _copy(on, a):
    """A new array on `on` with a's values (a: an array already there)."""
    if on == "cpu":
        return a.copy()
    out = _device.empty(on, a.shape, a.dtype)
    out.copy_to_device(a)
    return out


def _training_args(on, X, Y, W, b, iterations, alpha, record_every):
    X, _, W, b_work = _linear_args(on, X, W, b)
    Y = _device.as_targets(on, Y, "Y", X.shape[0], W.shape[1], X.dtype)
    iterations = count(iterations, "iterations", 0)
    alpha = real(alpha, "alpha")
    every = 0 if record_every is None else count(record_every, "record_every", 1)
    n_records = 0 if every == 0 else -(-iterations // every)
    J_his = _device.empty(on, iterations, np.float64)
    if on == "cpu":  # each record one contiguous block: the CPU loops write W.T (see their docstrings)
        W_his = np.empty((n_records, W.shape[1], W.shape[0]), W.dtype).transpose(0, 2, 1)
    else:
        W_his = _device.empty(on, (n_records,) + W.shape, W.dtype)
    # Copies: the loops update them in place and the caller's W, b stay as they were.
    b_shape = b.shape if hasattr(b, "shape") else np.shape(b)
    return X, Y, _copy(on, W), _copy(on, b_work), b_shape, iterations, alpha, every, J_his, W_his


def batch_gradient_descent_func(X, Y, W, b, iterations, alpha, record_every=1, device=None):
    """Full-batch gradient descent on the softmax linear classifier.

    X: (N, D), Y: (N, C) one-hot or N labels, W: (D, C), b: (C,) or (1, C)
    initial parameters (not modified), `iterations` updates of step `alpha`.
    Returns (W, b, J_his, W_his): the final parameters (b shaped like the
    given b), J_his: (iterations,) with J_his[i] the cost before update i,
    and W_his: (ceil(iterations / record_every), D, C) with the weights after
    updates 0, record_every, 2 * record_every, ... (record_every=1: after
    every update; None: none are kept).  On the CPU W_his is a transposed
    view of an (n, C, D) array, so each W_his[i] is one contiguous block.
    On the GPU all four results are device arrays and the loop never waits
    for the device.
    """
    on = _device.resolve(device, X, Y, W, b)
    X, Y, W, b_work, b_shape, iterations, alpha, every, J_his, W_his = _training_args(
        on, X, Y, W, b, iterations, alpha, record_every)
    _device.kernels(on).batch_gradient_descent(W, b_work, J_his, W_his, X, Y, alpha, every)
    return W, b_work.reshape(b_shape), J_his, W_his


def stochastic_gradient_descent_func(X, Y, W, b, iterations, alpha, mini_batch, random_seed=None,
                                     record_every=1, device=None):
    """Mini-batch stochastic gradient descent on the softmax linear classifier.

    As batch_gradient_descent_func, but each update uses `mini_batch`
    distinct rows of X drawn at random (1 <= mini_batch <= N; 1 is
    per-sample SGD) and J_his[i] is the cost of the rows drawn for update i,
    before it.  `random_seed` (0 <= seed < 2**32) makes the run reproducible;
    None draws a seed from numpy's global generator, so np.random.seed(...)
    fixes it too.  Use a large record_every (or None) for long runs: every
    kept W_his entry is a (D, C) copy of the weights.  The GPU draws the
    same rows as the CPU for the same seed.
    """
    on = _device.resolve(device, X, Y, W, b)
    X, Y, W, b_work, b_shape, iterations, alpha, every, J_his, W_his = _training_args(
        on, X, Y, W, b, iterations, alpha, record_every)
    mini_batch = count(mini_batch, "mini_batch", 1)
    if mini_batch > X.shape[0]:
        raise ValueError(f"mini_batch ({mini_batch}) must not exceed the number of rows of X ({X.shape[0]})")
    if random_seed is None:
        random_seed = int(np.random.randint(0, 2**31 - 1))
    seed = count(random_seed, "random_seed", 0)
    if seed >= 2**32:
        raise ValueError(f"random_seed must be < 2**32, got {seed}")
    _device.kernels(on).stochastic_gradient_descent(W, b_work, J_his, W_his, X, Y, alpha, mini_batch, every, seed)
    return W, b_work.reshape(b_shape), J_his, W_his
