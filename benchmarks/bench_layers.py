"""Per-operation suites: fastnp's kernels against the textbook numpy layers and torch."""
import numpy as np

import fastnp
from fastnp import reference

from .common import IMPLS, need_torch, onehot, warm


class Softmax:
    params = ([100, 100_000], ["float64", "float32"], IMPLS)
    param_names = ["N", "dtype", "impl"]

    def setup(self, n, dtype, impl):
        x = (3 * np.random.default_rng(0).standard_normal((n, 10))).astype(dtype)
        torch = need_torch(impl)
        if impl == "fastnp":
            self.fn = lambda: fastnp.softmax(x)
        elif impl == "numpy":
            self.fn = lambda: reference.softmax(x)
        else:
            tx = torch.from_numpy(x)
            self.fn = lambda: torch.softmax(tx, 1)
        warm(self.fn)

    def time_softmax(self, n, dtype, impl):
        self.fn()


class CrossEntropy:
    params = ([100, 100_000], ["float64", "float32"], IMPLS)
    param_names = ["N", "dtype", "impl"]

    def setup(self, n, dtype, impl):
        rng = np.random.default_rng(1)
        p = reference.softmax(3 * rng.standard_normal((n, 10))).astype(dtype)
        t = onehot(rng, n, 10, dtype)
        torch = need_torch(impl)
        if impl == "fastnp":
            self.fn = lambda: fastnp.cross_entropy_loss(p, t)
        elif impl == "numpy":
            self.fn = lambda: reference.cross_entropy_loss(p, t)
        else:
            tp, tt = torch.from_numpy(p), torch.from_numpy(t)
            self.fn = lambda: (-(tt * torch.log(tp + 1e-9)).sum() / n).item()
        warm(self.fn)

    def time_cross_entropy(self, n, dtype, impl):
        self.fn()


class OutputLayer:
    """Fused softmax + cross-entropy, forward and backward."""
    params = ([100, 100_000], ["float64", "float32"], IMPLS)
    param_names = ["N", "dtype", "impl"]

    def setup(self, n, dtype, impl):
        rng = np.random.default_rng(2)
        x, t = (3 * rng.standard_normal((n, 10))).astype(dtype), onehot(rng, n, 10, dtype)
        torch = need_torch(impl)
        if impl == "torch":
            tx, tt = torch.from_numpy(x), torch.from_numpy(t)

            def run():
                p = torch.softmax(tx, 1)
                return (-(tt * torch.log(p + 1e-9)).sum() / n).item(), (p - tt) / n
        else:
            layer = fastnp.OutputLayer() if impl == "fastnp" else reference.OutputLayer()

            def run():
                layer.forward(x, t)
                return layer.backward()
        self.fn = warm(run)

    def time_forward_backward(self, n, dtype, impl):
        self.fn()


class _Elementwise:
    params = ([100 * 1024, 4096 * 1024], ["float64", "float32"], IMPLS)
    param_names = ["elements", "dtype", "impl"]
    ours = theirs = torch_fn = None

    def setup(self, n, dtype, impl):
        rng = np.random.default_rng(3)
        x, dout = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
        torch = need_torch(impl)
        if impl == "torch":
            fn = getattr(torch, self.torch_fn)
            tx, td = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(dout)

            def run():
                tx.grad = None
                fn(tx).backward(td)
        else:
            layer = getattr(fastnp if impl == "fastnp" else reference, self.layer)()

            def run():
                layer.forward(x)
                # The textbook ReLU zeroes dout where x <= 0; repeating that is harmless.
                return layer.backward(dout)
        self.fn = warm(run)

    def time_forward_backward(self, n, dtype, impl):
        self.fn()


class ReLU(_Elementwise):
    layer, torch_fn = "ReLU", "relu"


class Sigmoid(_Elementwise):
    layer, torch_fn = "Sigmoid", "sigmoid"


class Affine:
    """Forward and backward of x @ W + b at the course's first layer, 100x3072 by 3072x1024."""
    params = (["float64", "float32"], IMPLS)
    param_names = ["dtype", "impl"]

    def setup(self, dtype, impl):
        rng = np.random.default_rng(4)
        x = rng.standard_normal((100, 3072)).astype(dtype)
        W, b = (0.01 * rng.standard_normal((3072, 1024))).astype(dtype), np.zeros(1024, dtype)
        dout = rng.standard_normal((100, 1024)).astype(dtype)
        torch = need_torch(impl)
        if impl == "torch":
            tx, tW, tb, td = (torch.from_numpy(a) for a in (x, W, b, dout))
            self.fn = lambda: (torch.addmm(tb, tx, tW), td @ tW.T, tx.T @ td, td.sum(0))
            self.fn_no_dx = lambda: (torch.addmm(tb, tx, tW), tx.T @ td, td.sum(0))
        else:
            layer = (fastnp if impl == "fastnp" else reference).Affine(W, b)

            def run(**backward_options):
                layer.forward(x)
                return layer.backward(dout, **backward_options)
            self.fn = run
            # As the first layer of a net, nobody needs dx; the textbook computes it anyway.
            self.fn_no_dx = (lambda: run(input_grad=False)) if impl == "fastnp" else run
        warm(self.fn)
        warm(self.fn_no_dx)

    def time_forward_backward(self, dtype, impl):
        self.fn()

    def time_forward_backward_first_layer(self, dtype, impl):
        """The same without the input gradient where the implementation can skip it."""
        self.fn_no_dx()


class TwoLayerStep:
    """One training step of the course's net: gradient and update, 3072-1024-10."""
    params = ([100], IMPLS)
    param_names = ["batch", "impl"]

    def setup(self, batch, impl):
        rng = np.random.default_rng(5)
        x, t = rng.standard_normal((batch, 3072)), onehot(rng, batch, 10)
        torch = need_torch(impl)
        np.random.seed(0)
        net = reference.TwoLayerNet(3072, 1024, 10, regularization=1e-4)
        if impl == "torch":
            params = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in net.params.items()}
            tx, tt = torch.from_numpy(x), torch.from_numpy(t)

            def run():
                hidden = torch.relu(torch.addmm(params["b1"], tx, params["W1"]))
                loss = -(tt * torch.log_softmax(torch.addmm(params["b2"], hidden, params["W2"]), 1)).sum() / batch
                loss = loss + 0.5e-4 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
                grads = torch.autograd.grad(loss, list(params.values()))
                with torch.no_grad():
                    for p, g in zip(params.values(), grads):
                        p -= 1e-3 * g
        else:
            if impl == "fastnp":
                np.random.seed(0)
                net = fastnp.TwoLayerNet(3072, 1024, 10, regularization=1e-4)

            def run():
                net.gradient(x, t)
                net.update_params(1e-3)
        self.fn = warm(run)

    def time_step(self, batch, impl):
        self.fn()
