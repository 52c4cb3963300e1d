"""Conversions, layouts, bad input and the promise never to modify arguments."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import naive
import fastnp


def frozen(*arrays):
    """Read-only copies: any write by fastnp raises, and the copies prove nothing changed."""
    out = []
    for a in arrays:
        a = np.array(a)
        a.flags.writeable = False
        out.append(a)
    return out


def test_lists_and_ints_become_float64():
    assert fastnp.softmax([[1, 2], [3, 4]]).dtype == np.float64
    assert fastnp.ReLU().forward(np.array([[1, -2]], dtype=np.int8)).dtype == np.float64
    assert fastnp.Sigmoid().forward([[True, False]]).dtype == np.float64
    assert fastnp.linear_pred([[1, 2]], [[1], [2]], [3]).tolist() == [[8.0]]


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert fastnp.softmax(x).dtype == np.float32
    layer = fastnp.OutputLayer()
    layer.forward(x, [0, 1, 2, 0])
    assert layer.backward().dtype == np.float32
    relu = fastnp.ReLU()
    assert relu.forward(x).dtype == np.float32 and relu.backward(x).dtype == np.float32
    sig = fastnp.Sigmoid()
    assert sig.forward(x).dtype == np.float32 and sig.backward(x).dtype == np.float32
    affine = fastnp.Affine(x.T.copy(), np.zeros(4, np.float32))
    assert affine.forward(x).dtype == np.float32
    assert affine.backward(np.ones((4, 4), np.float32)).dtype == np.float32 and affine.dW.dtype == np.float32
    W, b, J, W_his = fastnp.stochastic_gradient_descent_func(x, [0, 1, 2, 0], np.zeros((3, 3), np.float32),
                                                             np.zeros(3, np.float32), 3, 0.1, 2, random_seed=1)
    assert W.dtype == b.dtype == W_his.dtype == np.float32
    net = fastnp.TwoLayerNet(3, 5, 3, dtype=np.float32, seed=0)
    grads = net.gradient(x, [0, 1, 2, 0])
    assert all(g.dtype == np.float32 for g in grads.values())
    assert net.predict(x.astype(np.float64)).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_big_endian_input_keeps_its_precision_and_values(dtype):
    """Data read from a file may be big-endian: '>f4' is float32 too, and the
    kernels get it converted to the machine's byte order."""
    rng = np.random.default_rng(2)
    x, W = rng.standard_normal((5, 4)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    labels = np.array([0, 1, 2, 0, 1])

    def big_endian(a):
        return a.astype(a.dtype.newbyteorder(">"))

    for native, swapped in [
        (fastnp.softmax(x), fastnp.softmax(big_endian(x))),
        (fastnp.ReLU().forward(x), fastnp.ReLU().forward(big_endian(x))),
        (fastnp.Sigmoid().forward(x), fastnp.Sigmoid().forward(big_endian(x))),
        (fastnp.Affine(W, np.zeros(3, dtype)).forward(x),
         fastnp.Affine(big_endian(W), big_endian(np.zeros(3, dtype))).forward(big_endian(x))),
        (fastnp.batch_gradient_descent_func(x, labels, W, np.zeros(3, dtype), 3, 0.1)[0],
         fastnp.batch_gradient_descent_func(big_endian(x), big_endian(labels), big_endian(W),
                                            big_endian(np.zeros(3, dtype)), 3, 0.1)[0]),
    ]:
        assert swapped.dtype == native.dtype == dtype
        assert_array_equal(swapped, native)
    layer = fastnp.OutputLayer()
    assert layer.forward(big_endian(x[:, :3]), big_endian(labels)) == fastnp.OutputLayer().forward(x[:, :3], labels)
    assert layer.backward().dtype == dtype


@pytest.mark.parametrize("layout", ["fortran", "strided", "negative"])
def test_non_contiguous_inputs(layout):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((6, 8))
    x = {"fortran": np.asfortranarray(base), "strided": base[::2, ::2],
         "negative": base[::-1, ::-1]}[layout]
    assert_allclose(fastnp.softmax(x), naive.softmax(x), rtol=1e-13)
    W = np.asfortranarray(rng.standard_normal((x.shape[1], 3)))
    assert_allclose(fastnp.linear_pred(x, W, np.ones(3)), naive.affine(x, W, np.ones(3)), rtol=1e-12)
    affine = fastnp.Affine(W, np.ones(3))
    assert_allclose(affine.forward(x), naive.affine(x, W, np.ones(3)), rtol=1e-12)
    dout = np.asfortranarray(rng.standard_normal((x.shape[0], 3)))
    assert_allclose(affine.backward(dout), dout @ W.T, rtol=1e-12)
    relu = fastnp.ReLU()
    assert_allclose(relu.forward(x), naive.relu(x))
    assert_allclose(relu.backward(x.T.T), naive.relu_grad(x, x))


def test_arguments_are_never_modified():
    rng = np.random.default_rng(2)
    X, Y = frozen(rng.standard_normal((10, 6)), np.eye(3)[rng.integers(0, 3, 10)])
    W, b = frozen(0.1 * rng.standard_normal((6, 3)), np.zeros(3))
    fastnp.softmax(X)
    fastnp.cross_entropy_loss(fastnp.softmax(X[:, :3]), Y)
    fastnp.linear_cost_func(X, Y, W, b)
    W1, b1, _, _ = fastnp.batch_gradient_descent_func(X, Y, W, b, 3, 0.1)
    W2, b2, _, _ = fastnp.stochastic_gradient_descent_func(X, Y, W, b, 3, 0.1, 4, random_seed=0)
    assert not np.array_equal(W1, W) and not np.array_equal(W2, W)
    for layer in (fastnp.ReLU(), fastnp.Sigmoid()):
        layer.forward(X)
        (dout,) = frozen(X)
        layer.backward(dout)
    out = fastnp.OutputLayer()
    out.forward(X[:, :3], Y)
    out.backward()
    affine = fastnp.Affine(W, b)
    affine.forward(X)
    affine.backward(frozen(np.ones((10, 3)))[0])


def test_writeable_arguments_keep_their_values():
    """The same as above for ordinary arrays, where a stray write would go unnoticed."""
    rng = np.random.default_rng(3)
    X, W, b = rng.standard_normal((10, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    labels = rng.integers(0, 3, 10)
    copies = [a.copy() for a in (X, W, b, labels)]
    fastnp.batch_gradient_descent_func(X, labels, W, b, 2, 0.1)
    fastnp.stochastic_gradient_descent_func(X, labels, W, b, 2, 0.1, 3, random_seed=0)
    dout = rng.standard_normal((10, 6))
    dout_copy = dout.copy()
    relu = fastnp.ReLU()
    relu.forward(X)
    relu.backward(dout)  # the textbook's ReLU.backward writes into dout; ours must not
    for a, c in zip((X, W, b, labels, dout), copies + [dout_copy]):
        assert_array_equal(a, c)


def test_targets_as_labels_one_hot_and_soft():
    x = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]])
    labels = np.array([1, 2])
    onehot = np.eye(3)[labels]
    assert fastnp.cross_entropy_loss(fastnp.softmax(x), labels) == fastnp.cross_entropy_loss(fastnp.softmax(x), onehot)
    assert fastnp.cross_entropy_loss(fastnp.softmax(x), labels.astype(float)) == pytest.approx(
        fastnp.cross_entropy_loss(fastnp.softmax(x), onehot))
    soft = np.array([[0.2, 0.8, 0.0], [0.5, 0.0, 0.5]])
    assert fastnp.OutputLayer().forward(x, soft) == pytest.approx(naive.cross_entropy(naive.softmax(x), soft))
    net = fastnp.TwoLayerNet(3, 4, 3, seed=0)
    assert net.accuracy(x, labels) == net.accuracy(x, onehot)
    # One sample as a 1-D row with a one-hot 1-D target.
    want = naive.cross_entropy(naive.softmax(x[:1]), onehot[:1])
    assert fastnp.OutputLayer().forward(x[0], onehot[0]) == pytest.approx(want)


@pytest.mark.parametrize("labels_as", [np.int64, np.int32, np.uint8, float, list])
def test_labels_give_the_bits_of_their_one_hot_rows(labels_as):
    """Labels reach the fused kernels as labels (OutputLayer.t keeps them), in any
    integer dtype, as integral floats or a list: every result equals the one-hot one to the bit."""
    rng = np.random.default_rng(5)
    x, labels = rng.standard_normal((30, 4)), rng.integers(0, 4, 30)
    onehot = np.eye(4)[labels]
    given = labels.tolist() if labels_as is list else labels.astype(labels_as)
    by_labels, by_rows = fastnp.OutputLayer(), fastnp.OutputLayer()
    assert by_labels.forward(x, given) == by_rows.forward(x, onehot)
    assert by_labels.t.dtype == np.int64 and by_labels.t.shape == (30,)
    assert np.array_equal(by_labels.backward(2.0), by_rows.backward(2.0))
    assert np.array_equal(by_labels.backward(), by_rows.backward())  # recomputed from x and the labels
    net = fastnp.TwoLayerNet(4, 5, 4, regularization=0.1, seed=0)
    assert net.loss(x, given) == net.loss(x, onehot)
    assert net.accuracy(x, given) == net.accuracy(x, onehot)
    g_labels = {k: v.copy() for k, v in net.gradient(x, given).items()}
    g_rows = net.gradient(x, onehot)
    assert all(np.array_equal(g_labels[k], g_rows[k]) for k in g_rows)
    if labels_as is np.int64:
        assert np.array_equal(given, labels)  # used as given, and left as it was


@pytest.mark.parametrize("call, message", [
    (lambda: fastnp.linear_pred(np.ones((4, 3)), np.ones((5, 2)), np.ones(2)), r"X has 3 columns but W has 5 rows"),
    (lambda: fastnp.linear_pred(np.ones((4, 3)), np.ones((3, 2)), np.ones(3)), r"b must have shape \(2,\)"),
    (lambda: fastnp.cross_entropy_loss(np.ones((4, 3)) / 3, np.ones((5, 3))),
     r"target must be one-hot targets of shape \(4, 3\)"),
    (lambda: fastnp.cross_entropy_loss(np.ones((2, 3)) / 3, [0, 3]), r"labels outside \[0, 3\)"),
    (lambda: fastnp.cross_entropy_loss(np.ones((2, 3)) / 3, [0.5, 1]), r"whole numbers"),
    (lambda: fastnp.cross_entropy_loss(np.ones((2, 3)) / 3, [1e20, 1]),
     r"labels outside \[0, 3\): min 1.0, max 1e\+20"),
    (lambda: fastnp.cross_entropy_loss(np.ones((2, 3)) / 3, np.array([2**63, 1], np.uint64)),
     r"labels outside \[0, 3\): min 1, max 9223372036854775808"),
    (lambda: fastnp.softmax(np.ones((0, 3))), r"x is empty"),
    (lambda: fastnp.softmax(np.ones((2, 2, 2))), r"x must be 1-D or 2-D"),
    (lambda: fastnp.OutputLayer().forward(np.ones((0, 3)), np.ones((0, 3))), r"empty"),
    (lambda: fastnp.Affine(np.ones((3, 2)), np.ones(2)).forward(np.ones((4, 5))), r"x has 5 columns but W has 3 rows"),
    (lambda: fastnp.stochastic_gradient_descent_func(np.ones((4, 3)), [0, 1, 0, 1], np.ones((3, 2)), np.ones(2),
                                                     5, 0.1, 5), r"mini_batch \(5\) must not exceed"),
    (lambda: fastnp.batch_gradient_descent_func(np.ones((4, 3)), [0, 1, 0, 1], np.ones((3, 2)), np.ones(2),
                                                -1, 0.1), r"iterations must be >= 0"),
    (lambda: fastnp.batch_gradient_descent_func(np.ones((4, 3)), [0, 1, 0, 1], np.ones((3, 2)), np.ones(2),
                                                2, float("nan")), r"alpha must be finite"),
    (lambda: fastnp.TwoLayerNet(3, 0, 2), r"hidden_size must be >= 1"),
    (lambda: fastnp.TwoLayerNet(3, 2, 2).gradient(np.ones((4, 3)), np.ones((3, 2))),
     r"t must be one-hot targets of shape \(4, 2\)"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call", [
    lambda: fastnp.softmax(np.ones((2, 2), complex)),
    lambda: fastnp.softmax([["a", "b"]]),
    lambda: fastnp.stochastic_gradient_descent_func(np.ones((4, 3)), [0, 1, 0, 1], np.ones((3, 2)), np.ones(2),
                                                    5, 0.1, 2.5),
    lambda: fastnp.TwoLayerNet(3, 2, 2, dtype=np.int32),
])
def test_bad_types_raise_type_error(call):
    with pytest.raises(TypeError):
        call()


def test_masked_entries_are_refused_not_dropped():
    """np.asarray drops a mask without a word; the textbook's numpy code would honour it."""
    x = np.ma.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]], mask=[[0, 0, 1], [0, 0, 0]])
    for call in (lambda: fastnp.softmax(x), lambda: fastnp.ReLU().forward(x), lambda: fastnp.Sigmoid().forward(x),
                 lambda: fastnp.OutputLayer().forward(x, [0, 1]),
                 lambda: fastnp.OutputLayer().forward(x.data, np.ma.array([0, 1], mask=[1, 0])),
                 lambda: fastnp.Affine(np.ones((3, 2)), np.zeros(2)).forward(x)):
        with pytest.raises(TypeError, match="masked entries"):
            call()
    unmasked = np.ma.array(x.data, mask=False)
    assert_array_equal(fastnp.softmax(unmasked), fastnp.softmax(x.data))


def test_backward_before_forward_raises():
    for layer in (fastnp.OutputLayer(), fastnp.ReLU(), fastnp.Sigmoid(), fastnp.Affine(np.ones((2, 2)), np.ones(2))):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="call gradient"):
        fastnp.TwoLayerNet(2, 2, 2).update_params(0.1)


def test_backward_shape_must_match_forward():
    relu = fastnp.ReLU()
    relu.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\)"):
        relu.backward(np.ones((3, 2)))


def test_nan_propagates():
    x = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]])
    out = fastnp.softmax(x)
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    assert np.isnan(fastnp.cross_entropy_loss(out, [0, 1]))
    layer = fastnp.OutputLayer()
    assert np.isnan(layer.forward(x, [[0, 0, 0], [0, 1, 0]]))  # NaN row with an all-zero target
    assert np.isnan(layer.backward()[0]).all()
    assert np.isnan(fastnp.ReLU().forward(x)[0, 1]) and np.isnan(fastnp.Sigmoid().forward(x)[0, 1])


def test_output_layer_backward_can_be_called_twice():
    layer = fastnp.OutputLayer()
    layer.forward([[1.0, 2.0]], [1])
    first = layer.backward()
    second = layer.backward()
    assert first is not second
    assert_array_equal(first, second)
    first[:] = 0
    assert_array_equal(layer.backward(), second)
