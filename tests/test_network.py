"""TwoLayerNet: the textbook's structure and numbers, and the gradient check."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import naive
import fastnp
from fastnp import reference


def test_structure_and_shared_parameters():
    net = fastnp.TwoLayerNet(input_size=6, hidden_size=4, output_size=3)
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert isinstance(net.lastLayer, fastnp.OutputLayer)
    assert {k: v.shape for k, v in net.params.items()} == {"W1": (6, 4), "b1": (4,), "W2": (4, 3), "b2": (3,)}
    assert net.layers["Affine1"].W is net.params["W1"] and net.layers["Affine1"].b is net.params["b1"]
    assert net.layers["Affine2"].W is net.params["W2"] and net.layers["Affine2"].b is net.params["b2"]


def test_same_initialization_and_training_as_the_textbook():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((30, 12)), rng.integers(0, 4, 30)
    t = np.eye(4)[labels]
    np.random.seed(42)
    ours = fastnp.TwoLayerNet(12, 8, 4, regularization=0.01, weight_init_std=0.3)
    np.random.seed(42)
    theirs = reference.TwoLayerNet(12, 8, 4, regularization=0.01, weight_init_std=0.3)
    for key in ours.params:
        assert_array_equal(ours.params[key], theirs.params[key])
    W1 = ours.params["W1"]
    for step in range(5):
        batch = slice(6 * step, 6 * step + 6)
        g_ours, g_theirs = ours.gradient(x[batch], t[batch]), theirs.gradient(x[batch], t[batch])
        for key in g_ours:
            assert_allclose(g_ours[key], g_theirs[key], rtol=1e-10, atol=1e-15, err_msg=key)
        ours.update_params(0.5)
        theirs.update_params(0.5)
    assert ours.params["W1"] is W1 and ours.layers["Affine1"].W is W1  # updated in place
    for key in ours.params:
        assert_allclose(ours.params[key], theirs.params[key], rtol=1e-10, atol=1e-15)
    assert ours.loss(x, t) == pytest.approx(theirs.loss(x, t), rel=1e-12)
    assert ours.accuracy(x, labels) == pytest.approx(theirs.accuracy(x, t))
    assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-12)


def test_seed_makes_initialization_reproducible():
    a = fastnp.TwoLayerNet(5, 3, 2, seed=9)
    b = fastnp.TwoLayerNet(5, 3, 2, seed=9)
    c = fastnp.TwoLayerNet(5, 3, 2, seed=10)
    assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_accuracy_against_oracle():
    rng = np.random.default_rng(5)
    net = fastnp.TwoLayerNet(7, 6, 5, weight_init_std=1.0, seed=1)
    x, labels = rng.standard_normal((40, 7)), rng.integers(0, 5, 40)
    scores = naive.affine(naive.relu(naive.affine(x, net.params["W1"], net.params["b1"])),
                          net.params["W2"], net.params["b2"])
    assert net.accuracy(x, labels) == np.mean(scores.argmax(axis=1) == labels)


def test_numerical_gradient_leaves_params_alone():
    net = fastnp.TwoLayerNet(4, 3, 2, seed=0)
    before = {k: v.copy() for k, v in net.params.items()}
    net.numerical_gradient(np.ones((2, 4)), [0, 1])
    for key in before:
        assert_array_equal(net.params[key], before[key])


def test_gradient_check_matches_the_textbook_numerical_gradient_on_cifar(cifar):
    """The course's 3072-10-10 check on 20 images: fastnp's numerical gradient
    agrees with the textbook's element by element, and with backprop."""
    X_tr, Y_tr, _, _ = cifar
    x, t = X_tr[:20], np.eye(10)[Y_tr[:20]]
    np.random.seed(0)
    ours = fastnp.TwoLayerNet(3072, 10, 10, regularization=0.0001)
    np.random.seed(0)
    theirs = reference.TwoLayerNet(3072, 10, 10, regularization=0.0001)
    fast = ours.numerical_gradient(x, t)
    slow = theirs.numerical_gradient(x, t)
    backprop = ours.gradient(x, t)
    for key in fast:
        assert_allclose(fast[key], slow[key], rtol=0, atol=1e-9, err_msg=key)
        assert np.mean(np.abs(fast[key] - backprop[key])) < 1e-8, key


def test_count_correct_picks_rows_as_numpy_argmax():
    """Ties go to the first class and a NaN counts as the maximum, as in np.argmax."""
    from fastnp.kernels.cpu import count_correct

    rng = np.random.default_rng(3)
    scores = rng.integers(0, 3, (200, 5)).astype(float)  # many ties
    scores[::17, 2] = np.nan
    targets = np.eye(5)[rng.integers(0, 5, 200)]
    want = int(np.sum(scores.argmax(axis=1) == targets.argmax(axis=1)))
    assert count_correct(scores, targets) == want
    assert count_correct(scores.astype(np.float32), targets.astype(np.float32)) == want


def test_a_swapped_hidden_layer_takes_the_layer_by_layer_path():
    """The fused kernels assume Affine -> ReLU -> Affine; with Sigmoid in Relu1's
    place (a course exercise) every method must follow the layers instead."""
    rng = np.random.default_rng(3)
    x, labels = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    net = fastnp.TwoLayerNet(6, 5, 3, regularization=0.1, weight_init_std=0.5, seed=1)
    net.layers["Relu1"] = fastnp.Sigmoid()
    p = net.params
    hidden = naive.sigmoid(naive.affine(x, p["W1"], p["b1"]))
    scores = naive.affine(hidden, p["W2"], p["b2"])
    np.testing.assert_allclose(net.predict(x), scores, rtol=1e-12, atol=1e-14)
    l2 = 0.05 * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    t = naive.one_hot(labels, 3)
    assert net.loss(x, labels) == pytest.approx(naive.cross_entropy(naive.softmax(scores), t) + l2, rel=1e-12)
    before = {k: v.copy() for k, v in p.items()}
    grads, numerical = net.gradient(x, labels), net.numerical_gradient(x, labels)
    for key in grads:
        np.testing.assert_allclose(grads[key], numerical[key], rtol=1e-5, atol=1e-8, err_msg=key)
        assert np.array_equal(p[key], before[key])  # every perturbed element was put back


def test_float32_numerical_gradient_is_off_only_by_the_rounded_step():
    """At float32 the fused kernel still differences losses in float64: what is
    left is w +- h rounded to float32, ulp(w) / 2h, about 1.5e-4 at weights near
    0.3 (the docstring's claim; float32 losses, as the textbook loop takes
    them, leave about 3e-3)."""
    rng = np.random.default_rng(4)
    x, labels = rng.standard_normal((20, 50)), rng.integers(0, 10, 20)
    nets = {dt: fastnp.TwoLayerNet(50, 8, 10, regularization=0.1, weight_init_std=0.3, seed=1, dtype=dt)
            for dt in (np.float32, np.float64)}
    for key, p in nets[np.float64].params.items():
        p[...] = nets[np.float32].params[key]  # the same weights
    in_float32 = nets[np.float32].numerical_gradient(x, labels)
    in_float64 = nets[np.float64].numerical_gradient(x, labels)
    for key, want in in_float64.items():
        assert np.abs(in_float32[key] - want).max() <= 5e-4 * np.abs(want).max(), key
