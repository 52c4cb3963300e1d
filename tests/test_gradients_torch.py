"""Every backward pass against torch autograd.

The course's backward of OutputLayer is (softmax - t) / N, the exact gradient
of the cross-entropy written with log_softmax; the 1e-9 guard in the loss
value only matters for probabilities below ~1e-7, so the torch losses below
use log_softmax for gradients.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import fastnp

torch = pytest.importorskip("torch")


def leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def grad_of(loss, *leaves):
    loss.backward()
    return [v.grad.numpy() for v in leaves]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_affine(rng):
    x, W, b = rng.standard_normal((7, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((7, 4))
    layer = fastnp.Affine(W.copy(), b.copy())
    layer.forward(x)
    dx = layer.backward(dout)
    tx, tW, tb = leaf(x), leaf(W), leaf(b)
    gx, gW, gb = grad_of(((tx @ tW + tb) * torch.tensor(dout)).sum(), tx, tW, tb)
    assert_allclose(dx, gx, rtol=1e-13)
    assert_allclose(layer.dW, gW, rtol=1e-13)
    assert_allclose(layer.db, gb, rtol=1e-13)


def test_relu_and_sigmoid(rng):
    x, dout = rng.standard_normal((6, 9)), rng.standard_normal((6, 9))
    x[0, :3] = 0.0  # the kink: both give gradient 0 there
    for layer, fn in ((fastnp.ReLU(), torch.relu), (fastnp.Sigmoid(), torch.sigmoid)):
        out = layer.forward(x)
        tx = leaf(x)
        ty = fn(tx)
        assert_allclose(out, ty.detach().numpy(), rtol=1e-15)
        (gx,) = grad_of((ty * torch.tensor(dout)).sum(), tx)
        assert_allclose(layer.backward(dout), gx, rtol=1e-14, atol=1e-300)


def test_output_layer(rng):
    x, labels = 4 * rng.standard_normal((8, 5)), rng.integers(0, 5, 8)
    t = np.eye(5)[labels]
    layer = fastnp.OutputLayer()
    loss = layer.forward(x, labels)
    tx = leaf(x)
    guarded = -(torch.tensor(t) * torch.log(torch.softmax(tx, 1) + 1e-9)).sum() / 8
    assert loss == pytest.approx(guarded.item(), rel=1e-14)
    (gx,) = grad_of(-(torch.tensor(t) * torch.log_softmax(tx, 1)).sum() / 8, tx)
    assert_allclose(layer.backward(), gx, rtol=1e-12, atol=1e-16)


def test_linear_classifier_step(rng):
    X, Y = rng.standard_normal((15, 11)), np.eye(4)[rng.integers(0, 4, 15)]
    W, b, alpha = 0.1 * rng.standard_normal((11, 4)), 0.1 * rng.standard_normal(4), 0.3
    W1, b1, J, _ = fastnp.batch_gradient_descent_func(X, Y, W, b, 1, alpha)
    tW, tb = leaf(W), leaf(b)
    gW, gb = grad_of(-(torch.tensor(Y) * torch.log_softmax(torch.tensor(X) @ tW + tb, 1)).sum() / 15, tW, tb)
    assert_allclose((W - W1) / alpha, gW, rtol=1e-10, atol=1e-14)
    assert_allclose((b - b1) / alpha, gb, rtol=1e-10, atol=1e-14)
    assert J[0] == pytest.approx(fastnp.linear_cost_func(X, Y, W, b), rel=1e-15)


@pytest.mark.parametrize("reg", [0.0, 0.01])
def test_two_layer_net(rng, reg):
    net = fastnp.TwoLayerNet(20, 12, 5, regularization=reg, weight_init_std=0.5, seed=3)
    x, labels = rng.standard_normal((9, 20)), rng.integers(0, 5, 9)
    grads = net.gradient(x, labels)
    t = {k: leaf(v) for k, v in net.params.items()}
    hidden = torch.relu(torch.tensor(x) @ t["W1"] + t["b1"])
    scores = hidden @ t["W2"] + t["b2"]
    loss = -torch.log_softmax(scores, 1)[torch.arange(9), torch.tensor(labels)].sum() / 9
    loss = loss + 0.5 * reg * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    loss.backward()
    for key in ("W1", "b1", "W2", "b2"):
        assert_allclose(grads[key], t[key].grad.numpy(), rtol=1e-11, atol=1e-15, err_msg=key)
    with torch.no_grad():
        guarded = -torch.log(torch.softmax(scores, 1) + 1e-9)[torch.arange(9), torch.tensor(labels)].sum() / 9
        guarded += 0.5 * reg * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    assert net.loss(x, labels) == pytest.approx(guarded.item(), rel=1e-13)
