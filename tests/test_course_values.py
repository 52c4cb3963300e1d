"""Every reference value the course notebook prints, through the public API.

Arrays printed in e-notation have 9 significant digits (rtol 5e-9), those in
fixed notation 8 decimals (atol 5e-9); losses have 16-17 significant digits
(rtol 1e-15: our sums run in another order than numpy's, which can move the
last printed digit).
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastnp import *  # noqa: F403 - the drop-in import a notebook uses

X3 = [[3, -10, 0.7], [9, 15, -1], [-5, 1, -1]]
T3 = [[0, 1, 0], [1, 0, 0], [0, 0, 1]]


def test_star_import_exposes_the_course_api():
    ns = {}
    exec("from fastnp import *", ns)
    for name in ["softmax", "cross_entropy_loss", "linear_pred", "linear_predict", "linear_cost_func",
                 "batch_gradient_descent_func", "stochastic_gradient_descent_func",
                 "OutputLayer", "ReLU", "Sigmoid", "Affine", "TwoLayerNet"]:
        assert name in ns, name


def test_softmax_large_scores():
    out = softmax(np.array([[2060, 2000, 2080], [1010, 1020, 1030]]))
    assert_allclose(out, [[2.06115362e-09, 1.80485138e-35, 9.99999998e-01],
                          [2.06106005e-09, 4.53978686e-05, 9.99954600e-01]], rtol=5e-9)
    assert_allclose(out.sum(axis=1), [1.0, 1.0], rtol=1e-15)
    assert not np.isnan(out).any()


@pytest.mark.parametrize("prob, target, expected", [
    ([[0.0, 0.0, 0.0]], [[0, 1, 0]], 20.72326583694641),
    ([[0.1, 0.3, 0.6]], [[0, 1, 0]], 1.2039728009926025),
    ([[0.1, 0.3, 0.6], [0.2, 0.4, 0.4], [0.9, 0.05, 0.05]], [[0, 1, 0], [0, 0, 1], [1, 0, 0]], 0.7418746816378242),
])
def test_cross_entropy_loss(prob, target, expected):
    loss = cross_entropy_loss(np.array(prob), np.array(target))
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected, rel=1e-15, abs=0)


def test_linear_cost_at_zero_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3072))
    y = np.eye(10)[rng.integers(0, 10, 20)]
    assert linear_cost_func(x, y, np.zeros((3072, 10)), np.zeros(10)) == pytest.approx(2.302585082994045, rel=1e-15)


def test_output_layer_one_row():
    layer = OutputLayer()
    loss = layer.forward(np.array([[3, -10, 0.7]]), np.array([[0, 1, 0]]))
    assert loss == pytest.approx(13.095060867144417, rel=1e-15)
    assert_allclose(layer.backward(), [[0.90887517, -0.99999795, 0.09112277]], rtol=0, atol=5e-9)


def test_output_layer_three_rows():
    layer = OutputLayer()
    assert layer.forward(np.array(X3), np.array(T3)) == pytest.approx(7.075548386844261, rel=1e-15)
    assert_allclose(layer.backward(), [[3.02958391e-01, -3.33332649e-01, 3.03742579e-02],
                                       [-3.32509126e-01, 3.32509088e-01, 3.74189683e-08],
                                       [7.26173786e-04, 2.92959414e-01, -2.93685588e-01]], rtol=5e-9)


def test_relu():
    relu = ReLU()
    assert_array_equal(relu.forward(np.array([[3, -10, 0.7]])), [[3, 0, 0.7]])
    assert_array_equal(relu.backward(np.array([[-10, 1, 0]])), [[-10, 0, 0]])
    assert_array_equal(relu.forward(np.array(X3)), [[3, 0, 0.7], [9, 15, 0], [0, 1, 0]])
    assert_array_equal(relu.backward(np.array([[3, 5, -10], [5, -4, 2], [-3, -5, 3]])),
                       [[3, 0, -10], [5, -4, 0], [0, -5, 0]])


def test_sigmoid():
    sig = Sigmoid()
    assert_allclose(sig.forward(np.array([[3, -10, 0.7]])), [[9.52574127e-01, 4.53978687e-05, 6.68187772e-01]],
                    rtol=5e-9)
    assert_allclose(sig.backward(np.array([[3, -10, 0.7]])), [[0.13552998, -0.00045396, 0.15519901]], rtol=0, atol=5e-9)
    assert_allclose(sig.forward(np.array(X3)), [[9.52574127e-01, 4.53978687e-05, 6.68187772e-01],
                                                [9.99876605e-01, 9.99999694e-01, 2.68941421e-01],
                                                [6.69285092e-03, 7.31058579e-01, 2.68941421e-01]], rtol=5e-9)
    assert_allclose(sig.backward(np.array(X3)), [[1.35529979e-01, -4.53958077e-04, 1.55199011e-01],
                                                 [1.11041415e-03, 4.58853200e-06, -1.96611933e-01],
                                                 [-3.32402834e-02, 1.96611933e-01, -1.96611933e-01]], rtol=5e-9)


def test_affine():
    affine = Affine(np.array([[0.2, -0.3, 0.6], [-0.9, 0.1, -0.4]]), np.array([[0.2, -0.3, 0.6]]))
    assert_allclose(affine.forward(np.array([[0.2, -0.3], [-0.9, 0.1]])), [[0.51, -0.39, 0.84], [-0.07, -0.02, 0.02]],
                    atol=1e-15)
    assert_allclose(affine.backward(np.array([[0.1, 0.5, -0.8], [0.4, 0.7, -0.2]])), [[-0.61, 0.28], [-0.25, -0.21]],
                    atol=1e-15)
    assert_allclose(affine.dW, [[-0.34, -0.53, 0.02], [0.01, -0.08, 0.22]], atol=1e-15)
    assert_allclose(affine.db, [0.5, 1.2, -1.0], atol=1e-15)


def test_gradient_check_on_cifar(cifar):
    """The notebook's check: 3072-10-10 on 20 images, backprop vs numerical per parameter."""
    X_tr, Y_tr, _, _ = cifar
    np.random.seed(0)
    net = TwoLayerNet(input_size=3072, hidden_size=10, output_size=10, regularization=0.0001)
    x, t = X_tr[:20], np.eye(10)[Y_tr[:20]]
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        diff = np.mean(np.abs(backprop[key] - numerical[key]))
        assert diff < 1e-8, (key, diff)
        assert np.abs(backprop[key]).max() > 1e-6, key  # a real gradient, not zeros
