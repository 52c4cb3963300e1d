"""fastnp against the plain numpy oracle (tests/naive.py) on random shapes,
dtypes and scales drawn by hypothesis."""
import itertools

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import fastnp
from fastnp import reference
from fastnp.kernels import cpu as cpu_kernels
from fastnp.kernels.cpu import linear_classifier

dtypes = st.sampled_from([np.float32, np.float64])
seeds = st.integers(0, 2**32 - 1)
scales = st.sampled_from([1e-3, 1.0, 30.0, 1e3])


def tol(dtype, scale=1.0):
    """(rtol, atol) for comparing a result of `dtype` with the float64 oracle."""
    if dtype == np.float32:
        return 2e-5, 2e-6 * max(scale, 1.0)
    return 1e-12, 1e-14 * max(scale, 1.0)


def draw(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def targets(rng, n, c, dtype, soft=False):
    if soft:
        t = rng.random((n, c))
        return (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    return np.eye(c, dtype=dtype)[rng.integers(0, c, n)]


@given(seed=seeds, n=st.integers(1, 40), c=st.integers(1, 12), dtype=dtypes, scale=scales)
def test_softmax(seed, n, c, dtype, scale):
    x = draw(np.random.default_rng(seed), (n, c), dtype, scale)
    out = fastnp.softmax(x)
    assert out.dtype == dtype and out.shape == (n, c)
    assert_allclose(out, naive.softmax(x), *tol(dtype))
    assert_allclose(fastnp.softmax(x[0]), naive.softmax(x[0]), *tol(dtype))


@given(seed=seeds, n=st.integers(1, 40), c=st.integers(1, 12), dtype=dtypes, soft=st.booleans())
def test_cross_entropy_loss(seed, n, c, dtype, soft):
    rng = np.random.default_rng(seed)
    prob = naive.softmax(draw(rng, (n, c), np.float64, 3.0)).astype(dtype)
    prob[rng.random((n, c)) < 0.1] = 0  # exact zeros hit the 1e-9 guard
    t = targets(rng, n, c, dtype, soft)
    assert fastnp.cross_entropy_loss(prob, t) == pytest.approx(naive.cross_entropy(prob, t), rel=tol(dtype)[0])


@given(seed=seeds, n=st.integers(1, 40), c=st.integers(1, 12), dtype=dtypes, scale=scales, soft=st.booleans())
def test_output_layer(seed, n, c, dtype, scale, soft):
    rng = np.random.default_rng(seed)
    x, t = draw(rng, (n, c), dtype, scale), targets(rng, n, c, dtype, soft)
    layer = fastnp.OutputLayer()
    rtol, atol = tol(dtype)
    assert layer.forward(x, t) == pytest.approx(naive.cross_entropy(naive.softmax(x), t), rel=rtol, abs=atol)
    expected = (naive.softmax(x) - naive.f64(t)) / n
    assert_allclose(layer.backward(), expected, rtol, atol)
    assert_allclose(layer.backward(2.5), 2.5 * expected, rtol, atol)
    assert_allclose(layer.y, naive.softmax(x), rtol, atol)


@given(seed=seeds, n=st.sampled_from([1, 7, 1024, 3001]), c=st.integers(1, 12), dtype=dtypes, scale=scales,
       label_dtype=st.sampled_from([np.int64, np.int32, np.uint8]))
def test_fused_loss_with_labels_and_loss_only(seed, n, c, dtype, scale, label_dtype):
    """The fused kernel with integer labels equals it with their one-hot rows, to the bit (loss
    and gradient), and the loss-only kernel gives that same loss without writing anything.
    n = 3001 runs in several chunks (threads when there are more than one)."""
    from fastnp.kernels.cpu import softmax_cross_entropy, softmax_cross_entropy_loss, softmax_cross_entropy_loss_to

    rng = np.random.default_rng(seed)
    x = draw(rng, (n, c), dtype, scale)
    labels = rng.integers(0, c, n).astype(label_dtype)
    t = np.eye(c, dtype=dtype)[labels]
    x_before, labels_before = x.copy(), labels.copy()
    dx_onehot, dx_labels = np.empty_like(x), np.empty_like(x)
    loss = softmax_cross_entropy(dx_onehot, x, t)
    assert softmax_cross_entropy(dx_labels, x, labels) == loss
    assert np.array_equal(dx_labels, dx_onehot)
    assert softmax_cross_entropy_loss(x, labels) == loss
    assert softmax_cross_entropy_loss(x, t) == loss
    losses = np.full(2, -1.0)
    softmax_cross_entropy_loss_to(losses, 1, x, labels)
    assert losses[0] == -1.0 and losses[1] == loss
    assert np.array_equal(x, x_before) and np.array_equal(labels, labels_before)
    rtol, atol = tol(dtype)
    assert loss == pytest.approx(naive.cross_entropy(naive.softmax(x), t), rel=rtol, abs=atol)


def test_an_out_of_range_label_makes_the_loss_nan():
    from fastnp.kernels.cpu import softmax_cross_entropy, softmax_cross_entropy_loss

    x = np.zeros((5, 3))
    for bad in (3, -1):
        labels = np.array([0, 1, 2, bad, 0])
        assert np.isnan(softmax_cross_entropy_loss(x, labels))
        dx = np.empty_like(x)
        assert np.isnan(softmax_cross_entropy(dx, x, labels))
        assert np.isnan(dx[3]).all() and np.isfinite(np.delete(dx, 3, axis=0)).all()


@given(seed=seeds, shape=st.lists(st.integers(1, 9), min_size=1, max_size=3), dtype=dtypes, scale=scales)
def test_relu_and_sigmoid(seed, shape, dtype, scale):
    rng = np.random.default_rng(seed)
    x, dout = draw(rng, shape, dtype, scale), draw(rng, shape, dtype)
    rtol, atol = tol(dtype)
    relu = fastnp.ReLU()
    assert_allclose(relu.forward(x), naive.relu(x), rtol, atol)
    assert_allclose(relu.backward(dout), naive.relu_grad(x, dout), rtol, atol)
    sig = fastnp.Sigmoid()
    assert_allclose(sig.forward(x), naive.sigmoid(x), rtol, atol)
    assert_allclose(sig.backward(dout), naive.sigmoid_grad(x, dout), rtol, atol)


@given(seed=seeds, n=st.integers(1, 30), k=st.integers(1, 30), m=st.integers(1, 30), dtype=dtypes)
def test_affine(seed, n, k, m, dtype):
    rng = np.random.default_rng(seed)
    x, W, b, dout = draw(rng, (n, k), dtype), draw(rng, (k, m), dtype), draw(rng, m, dtype), draw(rng, (n, m), dtype)
    rtol, atol = tol(dtype, scale=np.sqrt(k))
    layer = fastnp.Affine(W, b)
    assert_allclose(layer.forward(x), naive.affine(x, W, b), rtol, atol)
    assert_allclose(layer.backward(dout), naive.f64(dout) @ naive.f64(W).T, rtol, atol * np.sqrt(m))
    assert_allclose(layer.dW, naive.f64(x).T @ naive.f64(dout), rtol, atol * np.sqrt(n))
    assert_allclose(layer.db, naive.f64(dout).sum(axis=0), rtol, atol * np.sqrt(n))
    assert_allclose(fastnp.linear_pred(x, W, b), naive.affine(x, W, b), rtol, atol)

    # The fused kernels: ReLU inside the product, forward and backward
    from fastnp.kernels.cpu import affine_relu_backward_input, affine_relu_forward

    out, mask = np.empty((n, m), dtype), np.empty((n, m), bool)
    affine_relu_forward(out, mask, x, W, b)
    assert_allclose(out, naive.relu(naive.affine(x, W, b)), rtol, atol)
    x_mask = x <= 0
    dx = np.empty_like(x)
    affine_relu_backward_input(dx, dout, W, x_mask)
    assert_allclose(dx, naive.relu_grad(x, naive.f64(dout) @ naive.f64(W).T), rtol, atol * np.sqrt(m))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_where_clears_the_masked_elements_and_keeps_the_others_bits(dtype):
    """The ReLU mask of affine_relu_backward_input, applied by clearing bits."""
    from fastnp.kernels.cpu.relu import zero_where

    rng = np.random.default_rng(0)
    a = rng.standard_normal((7, 13)).astype(dtype)
    specials = [-0.0, np.nan, np.inf, -np.inf, 0.0, -1.0]
    a.flat[:12] = specials * 2
    mask = rng.random(a.shape) < 0.5
    mask.flat[:12] = [False] * 6 + [True] * 6
    expected = np.where(mask, dtype(0), a)
    zero_where(a, mask)
    assert a.tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_relu_mask_viewed_from_other_bytes_counts_every_nonzero_byte_as_true(dtype):
    """numpy takes any non-zero byte of a bool array as True (such arrays come
    from views of other bytes); zero_where's AND reads the bytes as numbers.
    The user's mask is left as it was."""
    from fastnp.kernels.cpu import affine_relu_backward_input, relu_backward

    mask_bytes = np.array([[0, 1, 2, 255, 128, 0, 16, 3]], np.uint8)
    mask = mask_bytes.view(bool)
    dout, W = np.full((1, 1), 0.1, dtype), np.ones((8, 1), dtype)  # 0.1's low bits are not all 0
    expected = np.where(mask, dtype(0), dtype(0.1))
    dx = np.empty((1, 8), dtype)
    affine_relu_backward_input(dx, dout, W, mask)
    assert dx.tobytes() == expected.tobytes()
    relu_backward(dx[0], np.full(8, 0.1, dtype), mask[0])
    assert dx.tobytes() == expected.tobytes()
    assert mask.view(np.uint8).tolist() == [[0, 1, 2, 255, 128, 0, 16, 3]]


@given(seed=seeds, n=st.integers(1, 25), d=st.integers(1, 40), c=st.integers(2, 10), dtype=dtypes)
def test_linear_cost_and_batch_gradient_descent(seed, n, d, c, dtype):
    rng = np.random.default_rng(seed)
    X, Y = draw(rng, (n, d), dtype), targets(rng, n, c, dtype)
    W, b = draw(rng, (d, c), dtype, 0.1), draw(rng, c, dtype, 0.1)
    rtol = tol(dtype)[0] * 50
    assert fastnp.linear_cost_func(X, Y, W, b) == pytest.approx(naive.linear_cost(X, Y, W, b), rel=rtol)
    W1, b1, J, W_his = fastnp.batch_gradient_descent_func(X, Y, W, b, 5, 0.1)
    W_n, b_n, J_n, W_his_n = naive.batch_gd(X, Y, W, b, 5, 0.1)
    assert W1.dtype == dtype and J.shape == (5,) and W_his.shape == (5, d, c)
    assert_allclose(J, J_n, rtol)
    assert_allclose(W_his, W_his_n, rtol, rtol)
    assert_allclose(W1, W_n, rtol, rtol)
    assert_allclose(b1, b_n, rtol, rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_gradient_descent_long_run_stays_on_the_oracle(dtype):
    """100 updates: the score recurrence (refreshed every 16) must not drift."""
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((20, 300)).astype(dtype), targets(rng, 20, 10, dtype)
    W, b = np.zeros((300, 10), dtype), np.zeros(10, dtype)
    got = fastnp.batch_gradient_descent_func(X, Y, W, b, 100, 0.1)
    want = naive.batch_gd(X, Y, W, b, 100, 0.1)
    rtol = 1e-10 if dtype == np.float64 else 2e-3
    for g, w in zip(got, want):
        assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())


def test_batch_gradient_descent_record_every_and_labels():
    rng = np.random.default_rng(1)
    X, labels = rng.standard_normal((12, 7)), rng.integers(0, 3, 12)
    W, b = np.zeros((7, 3)), np.zeros((1, 3))
    W1, b1, J, W_his = fastnp.batch_gradient_descent_func(X, labels, W, b, 7, 0.2, record_every=3)
    W_all, b_all, J_all, W_his_all = fastnp.batch_gradient_descent_func(X, naive.one_hot(labels, 3), W, b, 7, 0.2)
    assert b1.shape == (1, 3)
    assert_allclose(J, J_all, rtol=1e-15)
    assert_allclose(W_his, W_his_all[[0, 3, 6]], rtol=1e-15)
    assert fastnp.batch_gradient_descent_func(X, labels, W, b, 7, 0.2, record_every=None)[3].shape == (0, 7, 3)


@pytest.mark.parametrize("closed_form", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, d, record_every", [(20, 300, 1), (12, 7, 3), (40, 9, 4)])
def test_batch_gradient_descent_both_ways(monkeypatch, closed_form, dtype, n, d, record_every):
    """The closed form (Gram matrix, every record from one product) and the
    textbook loop, each forced on shapes either could get, against the oracle."""
    monkeypatch.setattr(linear_classifier, "gram_pays", lambda *shape: closed_form)
    rng = np.random.default_rng(n + d)
    X, Y = draw(rng, (n, d), dtype), targets(rng, n, 5, dtype, soft=True)
    W, b = draw(rng, (d, 5), dtype, 0.1), draw(rng, 5, dtype, 0.1)
    W1, b1, J, W_his = fastnp.batch_gradient_descent_func(X, Y, W, b, 30, 0.5, record_every=record_every)
    W_n, b_n, J_n, W_his_n = naive.batch_gd(X, Y, W, b, 30, 0.5)
    rtol = 1e-11 if dtype == np.float64 else 2e-4
    assert_allclose(J, J_n, rtol)
    assert W_his.shape == (len(range(0, 30, record_every)), d, 5) and W_his.dtype == dtype
    for got, want in ((W_his, W_his_n[::record_every]), (W1, W_n), (b1, b_n)):
        assert_allclose(got, want, rtol, rtol * np.abs(want).max())


def test_batch_gradient_descent_takes_the_closed_form_only_for_few_rows():
    """The course's 20x3072 batch goes through its Gram matrix; a big batch or
    short run does not (its (N, N) Gram matrix would cost more than it saves)."""
    assert linear_classifier.gram_pays(20, 3072, 10, 100, 100)
    assert not linear_classifier.gram_pays(5000, 3072, 10, 10, 10)
    assert not linear_classifier.gram_pays(300, 200, 10, 10**6, 1)  # more rows than features
    assert not linear_classifier.gram_pays(20, 3072, 10, 1, 1)


def test_training_loops_fill_any_W_his_layout():
    """The CPU loops write W.T records: into the transposed view that
    batch_gradient_descent_func allocates (each record one contiguous block),
    or through a temporary into a C-contiguous W_his, with the same bits."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((20, 50)), targets(rng, 20, 4, np.float64)
    W, b = 0.1 * rng.standard_normal((50, 4)), np.zeros(4)
    for name, extra in (("batch_gradient_descent", ()), ("stochastic_gradient_descent", (5,))):
        results = []
        for W_his in (np.empty((4, 50, 4)), np.empty((4, 4, 50)).transpose(0, 2, 1)):
            W1, b1, J = W.copy(), b.copy(), np.empty(10)
            getattr(cpu_kernels, name)(W1, b1, J, W_his, X, Y, 0.3, *extra, 3, *((9,) if extra else ()))
            results.append((W1, b1, J, W_his.copy()))
        for got, want in zip(*results):
            np.testing.assert_array_equal(got, want, err_msg=name)
    W_his = fastnp.batch_gradient_descent_func(X, Y, W, b, 5, 0.3)[3]
    assert all(W_his[i].flags.f_contiguous for i in range(5))


@given(seed=seeds, n=st.integers(1, 20), d=st.integers(1, 30), c=st.integers(2, 6), dtype=dtypes)
def test_sgd_with_the_whole_batch_is_batch_gradient_descent(seed, n, d, c, dtype):
    rng = np.random.default_rng(seed)
    X, Y = draw(rng, (n, d), dtype), targets(rng, n, c, dtype)
    W, b = draw(rng, (d, c), dtype, 0.1), np.zeros(c, dtype)
    sgd = fastnp.stochastic_gradient_descent_func(X, Y, W, b, 4, 0.1, n, random_seed=seed % 1000)
    bgd = naive.batch_gd(X, Y, W, b, 4, 0.1)
    rtol = tol(dtype)[0] * 50
    for got, want in zip(sgd, bgd):
        assert_allclose(got, want, rtol, rtol)


def test_sgd_each_update_uses_distinct_rows_of_one_draw():
    """Every update must be the textbook update on some set of mini_batch distinct rows:
    with 6 rows and batches of 3 there are 20 candidate sets; exactly the drawn one fits."""
    rng = np.random.default_rng(3)
    n, d, c, m, alpha = 6, 5, 3, 3, 0.5
    X, Y = rng.standard_normal((n, d)), naive.one_hot(rng.integers(0, c, n), c)
    W0, b0 = 0.1 * rng.standard_normal((d, c)), np.zeros(c)
    _, b_final, J, W_his = fastnp.stochastic_gradient_descent_func(X, Y, W0, b0, 40, alpha, m, random_seed=11)
    W, b = W0, b0
    counts = np.zeros(n)
    for i in range(40):
        matches = []
        for rows in itertools.combinations(range(n), m):
            rows = list(rows)
            dW, db = naive.linear_grad(X[rows], Y[rows], W, b)
            if np.allclose(W - alpha * dW, W_his[i], rtol=1e-12, atol=1e-14):
                matches.append((rows, db))
        assert len(matches) == 1, f"update {i} fits {len(matches)} row sets"
        rows, db = matches[0]
        assert J[i] == pytest.approx(naive.linear_cost(X[rows], Y[rows], W, b), rel=1e-12)
        counts[rows] += 1
        W, b = W_his[i], b - alpha * db
    assert_allclose(b_final, b, rtol=1e-12)
    assert counts.min() > 0  # all rows get drawn


def test_sgd_is_reproducible_and_seed_dependent():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((50, 8)), naive.one_hot(rng.integers(0, 4, 50), 4)
    W, b = np.zeros((8, 4)), np.zeros(4)
    a = fastnp.stochastic_gradient_descent_func(X, Y, W, b, 30, 0.1, 5, random_seed=7)
    again = fastnp.stochastic_gradient_descent_func(X, Y, W, b, 30, 0.1, 5, random_seed=7)
    other = fastnp.stochastic_gradient_descent_func(X, Y, W, b, 30, 0.1, 5, random_seed=8)
    for x, y in zip(a, again):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[2], other[2])
    np.random.seed(5)
    from_global = fastnp.stochastic_gradient_descent_func(X, Y, W, b, 30, 0.1, 5)
    np.random.seed(5)
    np.testing.assert_array_equal(fastnp.stochastic_gradient_descent_func(X, Y, W, b, 30, 0.1, 5)[2], from_global[2])


@given(seed=seeds, n=st.integers(1, 6), d=st.integers(1, 6), h=st.integers(1, 5), c=st.integers(2, 4),
       reg=st.sampled_from([0.0, 1e-3, 0.5]), x_scale=st.sampled_from([0.01, 1.0, 300.0]),
       soft=st.booleans())
def test_numerical_gradient(seed, n, d, h, c, reg, x_scale, soft):
    """x_scale 0.01 and 1 take the series path of the kernel, 300 its exact path."""
    rng = np.random.default_rng(seed)
    net = fastnp.TwoLayerNet(d, h, c, regularization=reg, weight_init_std=1.0, seed=seed % 1000)
    net.params["b1"][:] = rng.standard_normal(h)
    x, t = x_scale * rng.standard_normal((n, d)), targets(rng, n, c, np.float64, soft)
    got = net.numerical_gradient(x, t)
    want = naive.two_layer_numerical_gradient(net.params, x, t, reg)
    for key in want:
        assert_allclose(got[key], want[key], rtol=1e-9, atol=1e-9, err_msg=key)


def test_textbook_reference_matches_the_oracle():
    """fastnp.reference is the bench baseline: it must compute the same things."""
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((10, 6)), naive.one_hot(rng.integers(0, 3, 10), 3)
    W, b = 0.1 * rng.standard_normal((6, 3)), np.zeros(3)
    for got, want in zip(reference.batch_gradient_descent_func(X, Y, W, b, 3, 0.1), naive.batch_gd(X, Y, W, b, 3, 0.1)):
        assert_allclose(got, want, rtol=1e-12)
    np.random.seed(4)
    ref = reference.TwoLayerNet(6, 4, 3, regularization=0.1, weight_init_std=1.0)
    num = ref.numerical_gradient(X, Y)
    want = naive.two_layer_numerical_gradient(ref.params, X, Y, 0.1)
    for key in want:
        assert_allclose(num[key], want[key], atol=1e-9)
