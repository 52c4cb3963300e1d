"""The textbook numpy solution of the course, written plainly and untuned.

This is the baseline that `fastnp bench` and the demo time fastnp against:
the obvious student solution (the Deep Learning from Scratch layer style),
with the course's 1e-9 log guard.  It calls no fastnp kernel.  Like the
textbook, ReLU.backward writes into dout and numerical_gradient perturbs
the parameters in place; fastnp does neither.
"""
from collections import OrderedDict

import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def cross_entropy_loss(prob, target):
    if prob.ndim == 1:
        prob, target = prob.reshape(1, -1), target.reshape(1, -1)
    return -np.sum(target * np.log(prob + 1e-9)) / prob.shape[0]


def linear_pred(X, W, b):
    return X @ W + b


def linear_cost_func(X, Y, W, b):
    return cross_entropy_loss(softmax(linear_pred(X, W, b)), Y)


def batch_gradient_descent_func(X, Y, W, b, iterations, alpha):
    N = X.shape[0]
    J_his = np.zeros(iterations)
    W_his = np.zeros((iterations,) + W.shape)
    for i in range(iterations):
        J_his[i] = linear_cost_func(X, Y, W, b)
        grad = (softmax(linear_pred(X, W, b)) - Y) / N
        W = W - alpha * (X.T @ grad)
        b = b - alpha * np.sum(grad, axis=0)
        W_his[i] = W
    return W, b, J_his, W_his


def stochastic_gradient_descent_func(X, Y, W, b, iterations, alpha, mini_batch, random_seed=None,
                                     record_every=1):
    rng = np.random.default_rng(random_seed)
    J_his = np.zeros(iterations)
    W_his = np.zeros((len(range(0, iterations, record_every)),) + W.shape)
    for i in range(iterations):
        idx = rng.choice(X.shape[0], mini_batch, replace=False)
        x, y = X[idx], Y[idx]
        J_his[i] = linear_cost_func(x, y, W, b)
        grad = (softmax(linear_pred(x, W, b)) - y) / mini_batch
        W = W - alpha * (x.T @ grad)
        b = b - alpha * np.sum(grad, axis=0)
        if i % record_every == 0:
            W_his[i // record_every] = W
    return W, b, J_his, W_his


class OutputLayer:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_loss(self.y, t)
        return self.loss

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class ReLU:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dx


def numerical_gradient(f, x, max_elements=None):
    """Central differences of f() over every element of x, perturbing x in place.

    max_elements stops after that many elements (to time a slice of a run
    that would take hours); the rest of grad stays 0.
    """
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    done = 0
    while not it.finished and (max_elements is None or done < max_elements):
        done += 1
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f()
        x[idx] = tmp_val - h
        fxh2 = f()
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
    return grad


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, regularization=0.0, weight_init_std=0.01):
        self.reg = regularization
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = ReLU()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = OutputLayer()
        self.grads = None

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        l2 = 0.5 * self.reg * (np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))
        return self.lastLayer.forward(y, t) + l2

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        self.grads = {
            "W1": self.layers["Affine1"].dW + self.reg * self.params["W1"],
            "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW + self.reg * self.params["W2"],
            "b2": self.layers["Affine2"].db,
        }
        return self.grads

    def update_params(self, learning_rate):
        for key in ("W1", "b1", "W2", "b2"):
            self.params[key] -= learning_rate * self.grads[key]

    def numerical_gradient(self, x, t):
        def loss():
            return self.loss(x, t)
        return {key: numerical_gradient(loss, self.params[key]) for key in ("W1", "b1", "W2", "b2")}
