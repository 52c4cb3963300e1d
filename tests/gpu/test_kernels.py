"""Tiers 1 and 3: every CUDA kernel against its CPU twin, float32 and float64,
at odd shapes that leave ragged blocks and tiles (conftest.launch_config),
under the simulator or on a real GPU.

The CPU kernels are themselves tested against plain numpy and torch
(tests/test_oracle.py, tests/test_gradients_torch.py); here the twins must
agree to rounding: 1e-12 relative in float64, 1e-5 in float32.
"""
import numpy as np
import pytest
from numba import cuda

import fastnp.kernels.cpu as cpu
import fastnp.kernels.cuda as gpu

from fastnp.kernels.cuda import config

from .conftest import SIMULATED

DTYPES = (np.float32, np.float64)


def tol(dtype, terms=1):
    """Tolerances for results that sum `terms` products (rounding grows with the sum's length)."""
    if dtype == np.float32:
        return dict(rtol=1e-5, atol=1e-6 * terms)
    return dict(rtol=1e-12, atol=1e-13 * terms)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def on_device(*arrays):
    return [cuda.to_device(a) for a in arrays]


def one_hot(rng, n, c, dtype):
    return np.eye(c, dtype=dtype)[rng.integers(0, c, n)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise(launch_config, rng, dtype):
    """211 elements: at the patched settings (3 blocks of 8 threads, each
    thread loading ELEMENT_LOADS = 4 per pass) two full passes and a ragged one."""
    n = 211
    x = rng.standard_normal(n).astype(dtype) * 20
    x[:3] = (0.0, np.nan, -np.inf)
    dout = rng.standard_normal(n).astype(dtype)

    out, mask = np.empty_like(x), np.empty(n, np.bool_)
    cpu.relu_forward(out, mask, x)
    g_out, g_mask, g_x = cuda.device_array_like(x), cuda.device_array(n, np.bool_), cuda.to_device(x)
    gpu.relu_forward(g_out, g_mask, g_x)
    np.testing.assert_array_equal(g_out.copy_to_host(), out)
    np.testing.assert_array_equal(g_mask.copy_to_host(), mask)
    dx = np.empty_like(x)
    cpu.relu_backward(dx, dout, mask)
    g_dx = cuda.device_array_like(x)
    gpu.relu_backward(g_dx, cuda.to_device(dout), g_mask)
    np.testing.assert_array_equal(g_dx.copy_to_host(), dx)

    cpu.sigmoid_forward(out, x)
    gpu.sigmoid_forward(g_out, g_x)
    np.testing.assert_allclose(g_out.copy_to_host(), out, **tol(dtype))
    cpu.sigmoid_backward(dx, dout, out)
    gpu.sigmoid_backward(g_dx, cuda.to_device(dout), cuda.to_device(out))
    np.testing.assert_allclose(g_dx.copy_to_host(), dx, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_axpy_and_sum_of_squares(launch_config, rng, dtype):
    x, y = (rng.standard_normal(53).astype(dtype) for _ in range(2))
    g_y = cuda.to_device(y)
    gpu.axpy(g_y, -0.3, cuda.to_device(x))
    want = y.copy()
    cpu.axpy(want, -0.3, x)
    np.testing.assert_allclose(g_y.copy_to_host(), want, **tol(dtype))
    out = np.empty_like(x)
    cpu.add_scaled(out, x, 2.5, y)
    g_out = cuda.device_array_like(x)
    gpu.add_scaled(g_out, cuda.to_device(x), 2.5, cuda.to_device(y))
    np.testing.assert_allclose(g_out.copy_to_host(), out, **tol(dtype))
    assert gpu.sum_of_squares(cuda.to_device(x)) == pytest.approx(cpu.sum_of_squares(x), rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("classes", [5, 13])  # one thread per row; one block per row (wider than 8)
def test_softmax_and_cross_entropy(launch_config, rng, dtype, classes):
    n = 29
    x = (rng.standard_normal((n, classes)) * 30).astype(dtype)
    x[3, 2] = np.nan
    t = one_hot(rng, n, classes, dtype)
    t[5] = rng.dirichlet(np.ones(classes))  # a soft target row
    t[7] = 0.0  # a row with no target: it adds nothing
    want = np.empty_like(x)
    cpu.softmax_rows(want, x)
    g = cuda.device_array_like(x)
    gpu.softmax_rows(g, cuda.to_device(x))
    np.testing.assert_allclose(g.copy_to_host(), want, **tol(dtype))

    finite = np.isfinite(x).all(axis=1)
    prob, tt = want[finite], t[finite]
    assert gpu.cross_entropy(*on_device(prob, tt)) == pytest.approx(cpu.cross_entropy(prob, tt), rel=1e-6)
    assert np.isnan(gpu.cross_entropy(*on_device(want, t)))

    for rows in (finite, np.ones(n, bool)):
        xs, ts = np.ascontiguousarray(x[rows]), np.ascontiguousarray(t[rows])
        dx = np.empty_like(xs)
        loss = cpu.softmax_cross_entropy(dx, xs, ts)
        g_dx = cuda.device_array_like(xs)
        g_loss = gpu.softmax_cross_entropy(g_dx, *on_device(xs, ts))
        np.testing.assert_allclose(g_dx.copy_to_host(), dx, **tol(dtype))
        np.testing.assert_allclose(g_loss, loss, rtol=1e-6 if dtype == np.float32 else 1e-12)
        # The loss alone, soft and empty target rows included: the fused loss's bits (see
        # test_labels_and_loss_only for the simulator's float32).  Narrow rows: the wide
        # kernel's loss-only variant is the same code as its fused one, and slow to simulate.
        if classes > config.NARROW_COLUMNS:
            continue
        only = gpu.softmax_cross_entropy_loss(*on_device(xs, ts))
        if np.isnan(g_loss):
            assert np.isnan(only)
        else:
            assert only == (pytest.approx(g_loss, rel=1e-6) if SIMULATED and dtype == np.float32 else g_loss)

    xs, ts = np.ascontiguousarray(x[finite]), np.ascontiguousarray(t[finite])
    dx = np.empty_like(xs)
    want_rows = cpu.softmax_cross_entropy_rows(dx, xs, ts, 40, 2, 11)
    g_x, g_t = on_device(xs, ts)
    g_dx = cuda.to_device(np.zeros_like(xs))
    assert gpu.softmax_cross_entropy_rows(g_dx, g_x, g_t, 40, 2, 11) == pytest.approx(want_rows, rel=1e-6)
    np.testing.assert_allclose(g_dx.copy_to_host()[2:11], dx[2:11], **tol(dtype))
    assert not g_dx.copy_to_host()[:2].any() and not g_dx.copy_to_host()[11:].any()

    losses = cuda.to_device(np.full(3, -1.0))
    gpu.softmax_cross_entropy_to(losses, 1, g_x, g_x, g_t)  # in place: dx is x
    host = np.full(3, -1.0)
    cpu.softmax_cross_entropy_to(host, 1, xs.copy(), xs, ts)
    np.testing.assert_allclose(losses.copy_to_host(), host, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64] if SIMULATED else DTYPES)
@pytest.mark.parametrize("classes", [5, 6])  # 6: float32 rows read as 8-byte pairs on a GPU
def test_loss_only_adds_the_rows_in_the_fused_order(launch_config, rng, dtype, classes):
    """The narrow loss-only kernel reads rows straight from global memory, the
    fused one stages them: each thread must still take the same rows and add
    them in the same order, for the same bits.  A different grouping changes
    the last bit in about half of such draws, so five of them."""
    for _ in range(5):
        x = rng.standard_normal((43, classes)).astype(dtype)  # several tiles per block under the small settings
        labels = rng.integers(0, classes, 43)
        g_x, g_labels, g_t = on_device(x, labels, np.eye(classes, dtype=dtype)[labels])
        fused = gpu.softmax_cross_entropy(cuda.device_array_like(x), g_x, g_t)
        assert gpu.softmax_cross_entropy_loss(g_x, g_t) == fused
        assert gpu.softmax_cross_entropy_loss(g_x, g_labels) == fused
    # Rows that start 4 bytes past an 8-byte boundary are read one score at a time.
    flat = cuda.to_device(np.concatenate([[0], x.ravel()]).astype(dtype))
    shifted = flat[1:].reshape(x.shape)
    assert gpu.softmax_cross_entropy_loss(shifted, g_labels) == fused


@pytest.mark.parametrize("dtype", DTYPES)
# Narrow rows, odd and even (float32 pairs on a GPU), and wide rows.
@pytest.mark.parametrize("classes, label_dtype", [(5, np.int64), (6, np.int32), (13, np.int32)])
def test_labels_and_loss_only(launch_config, rng, dtype, classes, label_dtype):
    """Integer labels stand for one-hot rows; the loss-only kernels give the fused loss, write nothing."""
    n = 9
    x = (rng.standard_normal((n, classes)) * 30).astype(dtype)
    labels = rng.integers(0, classes, n).astype(label_dtype)
    t = np.eye(classes, dtype=dtype)[labels]
    dx = np.empty_like(x)
    loss = cpu.softmax_cross_entropy(dx, x, t)
    assert cpu.softmax_cross_entropy_loss(x, labels) == loss

    g_x, g_t, g_labels = on_device(x, t, labels)
    g_dx = cuda.device_array_like(x)
    g_loss = gpu.softmax_cross_entropy(g_dx, g_x, g_labels)
    np.testing.assert_allclose(g_dx.copy_to_host(), dx, **tol(dtype))
    np.testing.assert_allclose(g_loss, loss, rtol=1e-6 if dtype == np.float32 else 1e-12)
    # Labels and their one-hot rows, fused or loss-only: the same bits (the same rows per
    # thread, added in the same order).  The simulator runs the kernels as Python on numpy
    # scalars, whose float32 promotion differs from numba's: there float64 alone is exact.
    exact = not SIMULATED or dtype == np.float64
    same = (lambda v: v == g_loss) if exact else (lambda v: v == pytest.approx(g_loss, rel=1e-6))
    assert same(gpu.softmax_cross_entropy(g_dx, g_x, g_t))
    assert same(gpu.softmax_cross_entropy_loss(g_x, g_t))
    losses = cuda.to_device(np.full(3, -1.0))
    gpu.softmax_cross_entropy_loss_to(losses, 2, g_x, g_labels)
    host = losses.copy_to_host()
    assert host[0] == host[1] == -1.0 and same(host[2])
    np.testing.assert_array_equal(g_x.copy_to_host(), x)  # the loss-only kernels write nothing

    bad = labels.copy()
    bad[4] = classes  # out of range: a NaN loss, never a silently smaller one
    assert np.isnan(cpu.softmax_cross_entropy_loss(x, bad))
    assert np.isnan(gpu.softmax_cross_entropy_loss(g_x, cuda.to_device(bad)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [
    (13, 7, 9), (1, 1, 1),
    (17, 33, 3),  # split-K under the small settings: 3 chunks of 12 (float32) or 11 (float64)
    pytest.param((64, 700, 20), marks=pytest.mark.skipif(SIMULATED, reason="too slow for the simulator")),
])  # N, K, M
def test_affine(launch_config, rng, dtype, shape):
    N, K, M = shape
    x, W, b, dout = (rng.standard_normal(s).astype(dtype) for s in ((N, K), (K, M), (M,), (N, M)))
    g_x, g_W, g_b, g_dout = on_device(x, W, b, dout)

    out = np.empty((N, M), dtype)
    cpu.affine_forward(out, x, W, b)
    g_out = cuda.device_array((N, M), dtype)
    gpu.affine_forward(g_out, g_x, g_W, g_b)
    np.testing.assert_allclose(g_out.copy_to_host(), out, **tol(dtype, max(K, M, N)))

    mask = np.empty((N, M), np.bool_)
    cpu.affine_relu_forward(out, mask, x, W, b)
    g_mask = cuda.device_array((N, M), np.bool_)
    gpu.affine_relu_forward(g_out, g_mask, g_x, g_W, g_b)
    np.testing.assert_allclose(g_out.copy_to_host(), out, **tol(dtype, max(K, M, N)))
    np.testing.assert_array_equal(g_mask.copy_to_host(), mask)

    dx = np.empty_like(x)
    cpu.affine_backward_input(dx, dout, W)
    g_dx = cuda.device_array_like(x)
    gpu.affine_backward_input(g_dx, g_dout, g_W)
    np.testing.assert_allclose(g_dx.copy_to_host(), dx, **tol(dtype, max(K, M, N)))
    x_mask = x <= 0  # as a ReLU before this layer would have left it
    cpu.affine_relu_backward_input(dx, dout, W, x_mask)
    assert not dx[x_mask].any()
    gpu.affine_relu_backward_input(g_dx, g_dout, g_W, cuda.to_device(x_mask))
    np.testing.assert_allclose(g_dx.copy_to_host(), dx, **tol(dtype, max(K, M, N)))

    dW, db = np.empty_like(W), np.empty_like(b)
    cpu.affine_backward_params(dW, db, dout, x)
    g_dW, g_db = cuda.device_array_like(W), cuda.device_array_like(b)
    gpu.affine_backward_params(g_dW, g_db, g_dout, g_x)
    np.testing.assert_allclose(g_dW.copy_to_host(), dW, **tol(dtype, max(K, M, N)))
    np.testing.assert_allclose(g_db.copy_to_host(), db, **tol(dtype, max(K, M, N)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_relu_mask_viewed_from_other_bytes(launch_config, dtype):
    """Any non-zero byte of a bool mask is True, as numpy and the CPU twins take it."""
    mask = np.array([[0, 1, 2, 255, 128, 0, 16, 3, 0]], np.uint8).view(bool)
    dout, W = np.full((1, 1), 0.1, dtype), np.ones((9, 1), dtype)
    expected = np.where(mask, dtype(0), dtype(0.1))
    g_dx = cuda.device_array((1, 9), dtype)
    gpu.affine_relu_backward_input(g_dx, *on_device(dout, W, mask))
    np.testing.assert_array_equal(g_dx.copy_to_host(), expected)
    gpu.relu_backward(g_dx.reshape(9), cuda.to_device(np.full(9, 0.1, dtype)), cuda.to_device(mask[0]))
    np.testing.assert_array_equal(g_dx.copy_to_host(), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_epilogues(launch_config, rng, dtype):
    """The epilogues the layers do not reach: ReLU backward and the fused update."""
    from fastnp.kernels.cuda.matmul import matmul

    a, b, out0 = (rng.standard_normal(s).astype(dtype) for s in ((11, 6), (9, 6), (11, 9)))
    mask = rng.random((11, 9)) < 0.4
    g_out = cuda.to_device(out0)
    matmul(g_out, *on_device(a, b), trans_b=True, epilogue="relu_grad", mask=cuda.to_device(mask))
    np.testing.assert_allclose(g_out.copy_to_host(), np.where(mask, 0, a @ b.T), **tol(dtype))
    g_out = cuda.to_device(out0)
    matmul(g_out, *on_device(a, np.ascontiguousarray(b.T)), epilogue="axpy", alpha=-0.5)
    np.testing.assert_allclose(g_out.copy_to_host(), out0 - 0.5 * (a @ b.T), **tol(dtype))
    with pytest.raises(ValueError, match="epilogue"):
        matmul(g_out, *on_device(a, b), epilogue="gelu")


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_classifier(launch_config, rng, dtype):
    """Both loops on both paths: batches of at most THREADS rows run as one
    single-block launch for all updates (per-sample SGD included), larger
    ones launch per update."""
    threads = config.THREADS
    N, D, C, iterations = threads + 4, 10, 3, 5
    X = rng.standard_normal((N, D)).astype(dtype)
    Y = one_hot(rng, N, C, dtype)
    W0 = (0.1 * rng.standard_normal((D, C))).astype(dtype)
    b0 = (0.1 * rng.standard_normal(C)).astype(dtype)
    small = threads // 2
    cases = [("batch_gradient_descent", N, ()), ("batch_gradient_descent", small, ()),
             ("stochastic_gradient_descent", N, (small,)), ("stochastic_gradient_descent", N, (1,)),
             ("stochastic_gradient_descent", N, (threads + 1,))]
    for name, n, extra in cases:
        Xn, Yn = np.ascontiguousarray(X[:n]), np.ascontiguousarray(Y[:n])
        record_every = 2
        W, b, J, W_his = W0.copy(), b0.copy(), np.empty(iterations), np.empty((3, D, C), dtype)
        args = (0.5,) + extra + (record_every,) + ((7,) if extra else ())
        getattr(cpu, name)(W, b, J, W_his, Xn, Yn, *args)
        g_W, g_b = on_device(W0, b0)
        g_J, g_W_his = cuda.device_array(iterations), cuda.device_array((3, D, C), dtype)
        getattr(gpu, name)(g_W, g_b, g_J, g_W_his, *on_device(Xn, Yn), *args)
        rel = 1e-5 if dtype == np.float32 else 1e-11
        msg = f"{name} on {n} rows {extra}"
        np.testing.assert_allclose(g_J.copy_to_host(), J, rtol=rel, err_msg=msg)
        np.testing.assert_allclose(g_W.copy_to_host(), W, rtol=rel, atol=rel, err_msg=msg)
        np.testing.assert_allclose(g_b.copy_to_host(), b, rtol=rel, atol=rel, err_msg=msg)
        np.testing.assert_allclose(g_W_his.copy_to_host(), W_his, rtol=rel, atol=rel, err_msg=msg)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_gradient_descent_in_closed_form(launch_config, rng, dtype):
    """Few rows and many features: both twins take the closed form (gram_pays),
    soft targets and a record_every that does not divide the iterations."""
    N, D, C, iterations, record_every = 5, 48, 3, 7, 3  # 5 rows: fewer than a block (8 threads, patched)
    n_records = -(-iterations // record_every)
    assert cpu.linear_classifier.gram_pays(N, D, C, iterations, n_records)
    X = rng.standard_normal((N, D)).astype(dtype)
    Y = rng.dirichlet(np.ones(C), N).astype(dtype)
    W0 = (0.1 * rng.standard_normal((D, C))).astype(dtype)
    b0 = (0.1 * rng.standard_normal(C)).astype(dtype)
    W, b, J, W_his = W0.copy(), b0.copy(), np.empty(iterations), np.empty((n_records, D, C), dtype)
    cpu.batch_gradient_descent(W, b, J, W_his, X, Y, 0.5, record_every)
    g_W, g_b, g_X, g_Y = on_device(W0, b0, X, Y)
    g_J, g_W_his = cuda.device_array(iterations), cuda.device_array((n_records, D, C), dtype)
    gpu.batch_gradient_descent(g_W, g_b, g_J, g_W_his, g_X, g_Y, 0.5, record_every)
    rel = 1e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(g_J.copy_to_host(), J, rtol=rel)
    np.testing.assert_allclose(g_W.copy_to_host(), W, rtol=rel, atol=rel)
    np.testing.assert_allclose(g_b.copy_to_host(), b, rtol=rel, atol=rel)
    np.testing.assert_allclose(g_W_his.copy_to_host(), W_his, rtol=rel, atol=rel)
    assert not np.allclose(W, W0)  # the loop moved the weights


@pytest.mark.parametrize("dtype", DTYPES)
def test_numerical_gradient(launch_config, rng, dtype):
    N, D, H, C = 6, 7, 5, 4
    x = rng.standard_normal((N, D)).astype(dtype)
    t = one_hot(rng, N, C, dtype)
    W1, b1, W2, b2 = ((0.5 * rng.standard_normal(s)).astype(dtype) for s in ((D, H), (H,), (H, C), (C,)))
    outs = [np.empty_like(p) for p in (W1, b1, W2, b2)]
    cpu.two_layer_numerical_gradient(*outs, x, t, W1, b1, W2, b2, 0.1, 1e-4)
    g_outs = [cuda.device_array_like(p) for p in (W1, b1, W2, b2)]
    gpu.two_layer_numerical_gradient(*g_outs, *on_device(x, t, W1, b1, W2, b2), 0.1, 1e-4)
    for name, g, want in zip(("W1", "b1", "W2", "b2"), g_outs, outs):
        # float32 parameters: the step and the scores round in float32 on both
        # sides, and the central difference divides their rounding by 2h.
        atol = 2e-3 if dtype == np.float32 else 1e-9
        np.testing.assert_allclose(g.copy_to_host(), want, rtol=0, atol=atol, err_msg=name)


def test_every_cpu_kernel_has_a_cuda_twin():
    """Same names, and the same parameters for every public kernel."""
    import inspect

    assert sorted(cpu.__all__) == sorted(gpu.__all__)
    for name in cpu.__all__:
        c, g = getattr(cpu, name), getattr(gpu, name)
        if callable(c):
            params = [list(inspect.signature(getattr(f, "py_func", f)).parameters) for f in (c, g)]
            assert params[0] == params[1], name
        else:
            assert c == g, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_count_correct(launch_config, rng, dtype):
    scores = rng.integers(0, 3, (37, 5)).astype(dtype)  # ties
    scores[::7, 3] = np.nan
    targets = one_hot(rng, 37, 5, dtype)
    want = cpu.count_correct(scores, targets)
    assert want == int(np.sum(scores.argmax(axis=1) == targets.argmax(axis=1)))
    assert gpu.count_correct(*on_device(scores, targets)) == want
    labels = targets.argmax(axis=1)
    assert cpu.count_correct(scores, labels) == want
    assert gpu.count_correct(*on_device(scores, labels)) == want
