"""Plain numpy oracle, written independently of the kernels.

Everything is computed in float64 from float64 copies of the inputs, with
whole-array numpy operations, so it also serves as the high-precision
reference for float32 results.
"""
import numpy as np


def f64(a):
    return np.array(a, dtype=np.float64)


def softmax(x):
    x = f64(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(prob, target):
    prob, target = np.atleast_2d(f64(prob)), np.atleast_2d(f64(target))
    return float(-(target * np.log(prob + 1e-9)).sum() / prob.shape[0])


def one_hot(labels, c):
    return np.eye(c)[np.asarray(labels)]


def affine(x, W, b):
    return f64(x) @ f64(W) + f64(b).reshape(-1)


def linear_cost(X, Y, W, b):
    return cross_entropy(softmax(affine(X, W, b)), Y)


def linear_grad(X, Y, W, b):
    """(dW, db) of linear_cost without the 1e-9 guard: X.T (softmax - Y) / N."""
    X, Y = f64(X), f64(Y)
    g = (softmax(affine(X, W, b)) - Y) / X.shape[0]
    return X.T @ g, g.sum(axis=0)


def batch_gd(X, Y, W, b, iterations, alpha):
    W, b = f64(W), f64(b).reshape(-1)
    J, Ws = [], []
    for _ in range(iterations):
        J.append(linear_cost(X, Y, W, b))
        dW, db = linear_grad(X, Y, W, b)
        W, b = W - alpha * dW, b - alpha * db
        Ws.append(W)
    return W, b, np.array(J), np.array(Ws)


def relu(x):
    return np.maximum(f64(x), 0.0)


def relu_grad(x, dout):
    return np.where(f64(x) > 0, f64(dout), 0.0)


def sigmoid(x):
    x = f64(x)
    return np.exp(-np.logaddexp(0.0, -x))


def sigmoid_grad(x, dout):
    s = sigmoid(x)
    return f64(dout) * s * (1 - s)


def two_layer_loss(params, x, t, reg):
    hidden = relu(affine(x, params["W1"], params["b1"]))
    scores = affine(hidden, params["W2"], params["b2"])
    l2 = 0.5 * reg * ((f64(params["W1"]) ** 2).sum() + (f64(params["W2"]) ** 2).sum())
    return cross_entropy(softmax(scores), t) + l2


def two_layer_numerical_gradient(params, x, t, reg, h=1e-4):
    """Central differences over every element, on float64 copies."""
    params = {k: f64(v) for k, v in params.items()}
    grads = {}
    for key, p in params.items():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            w = p[idx]
            p[idx] = w + h
            plus = two_layer_loss(params, x, t, reg)
            p[idx] = w - h
            minus = two_layer_loss(params, x, t, reg)
            p[idx] = w
            g[idx] = (plus - minus) / (2 * h)
        grads[key] = g
    return grads
