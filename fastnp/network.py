"""TwoLayerNet: Affine -> ReLU -> Affine -> OutputLayer, with L2 regularization."""
import os
import zipfile
from collections import OrderedDict

import numpy as np

from fastnp import _device
from fastnp._checks import as_float, check_cols, count, real
from fastnp.layers import Affine, OutputLayer, ReLU

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _checked_device(device):
    """A net's device, 'cpu' or 'cuda' (not None: a net has no input arrays to follow)."""
    if device not in _device.DEVICES:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return _device.resolve(device)


def _npz_name(path):
    """The file np.savez writes for path: ".npz" appended unless it is there."""
    name = os.fspath(path)
    return name if name.endswith(".npz") else name + ".npz"


class TwoLayerNet:
    """The course's two-layer network, input_size -> hidden_size -> output_size.

    params: dict of W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).  W1 and W2 start
    as weight_init_std * standard normal draws (numpy's global generator, as
    the textbook, or np.random.RandomState(seed) when seed is given), biases
    at zero.  layers: OrderedDict Affine1, Relu1, Affine2 sharing those very
    arrays; lastLayer: OutputLayer.  The loss is the mean cross-entropy plus
    0.5 * regularization * (sum W1**2 + sum W2**2).  dtype: float64 or
    float32; inputs are converted to it.  Not thread-safe (the layers keep
    state), like the textbook's.

    device="cuda" keeps the parameters on the GPU (drawn on the host exactly
    as for "cpu", then copied once): params, gradients and predictions are
    numba device arrays, inputs are copied there unless they already live
    there, and loss() and accuracy() return floats.
    """

    def __init__(self, input_size, hidden_size, output_size, regularization=0.0, weight_init_std=0.01,
                 seed=None, dtype=np.float64, device="cpu"):
        sizes = [count(v, name, 1) for v, name in
                 ((input_size, "input_size"), (hidden_size, "hidden_size"), (output_size, "output_size"))]
        std = real(weight_init_std, "weight_init_std")
        randn = np.random.randn if seed is None else np.random.RandomState(count(seed, "seed", 0)).randn
        self._settings(regularization, dtype)
        self.device = _checked_device(device)
        D, H, C = sizes
        self._assemble({
            "W1": (std * randn(D, H)).astype(self.dtype),
            "b1": np.zeros(H, self.dtype),
            "W2": (std * randn(H, C)).astype(self.dtype),
            "b2": np.zeros(C, self.dtype),
        })

    def _settings(self, regularization, dtype):
        """Check and keep regularization and dtype."""
        self.regularization = real(regularization, "regularization", minimum=0.0)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")

    def _assemble(self, params):
        """Keep params (host arrays of self.dtype, copied once to the GPU on
        'cuda') and build the layers on those very arrays."""
        if self.device == "cuda":
            params = {k: _device.as_float("cuda", v, k, ndims=None) for k, v in params.items()}
        self.params = params
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"], device=self.device)
        self.layers["Relu1"] = ReLU(device=self.device)
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"], device=self.device)
        self.lastLayer = OutputLayer(device=self.device)
        self.grads = None

    @property
    def _k(self):
        """The kernel family of this net's device."""
        return _device.kernels(self.device)

    def _inputs(self, x):
        rows, single = _device.as_rows(self.device, x, "x", self.dtype)
        W1 = self.params["W1"]
        check_cols(rows, W1.shape[0], "x", "W1", W1.shape)
        return rows, single

    def _targets(self, t, rows, keep_labels=True):
        return _device.as_targets(self.device, t, "t", rows.shape[0], self.params["W2"].shape[1], self.dtype,
                                  keep_labels)

    def _fused(self):
        """Whether layers are still Affine1 -> ReLU -> Affine2, so that the ReLU
        can run inside the products (forward and backward).  A user who swaps
        a layer (say Sigmoid for Relu1) gets the plain layer-by-layer path."""
        L = self.layers
        return list(L) == ["Affine1", "Relu1", "Affine2"] and type(L["Affine1"]) is Affine \
            and type(L["Relu1"]) is ReLU and type(L["Affine2"]) is Affine

    def predict(self, x):
        """Scores before softmax: (N, C) for x: (N, D), or (C,) for one (D,) row."""
        rows, single = self._inputs(x)
        if self._fused():
            hidden = self.layers["Affine1"].forward_relu(rows, self.layers["Relu1"])
            rows = self.layers["Affine2"].forward(hidden)
        else:
            for layer in self.layers.values():
                rows = layer.forward(rows)
        return rows[0] if single else rows

    def _l2(self):
        W1, W2 = self.params["W1"], self.params["W2"]
        ssq = self._k.sum_of_squares
        return 0.5 * self.regularization * (ssq(W1.reshape(W1.size)) + ssq(W2.reshape(W2.size)))

    def loss(self, x, t):
        """Mean cross-entropy of softmax(predict(x)) against t, plus the L2 term.

        t: (N, C) one-hot or soft targets, or N integer labels.  The loss-only
        kernel: no gradient is written (lastLayer keeps the last gradient()'s state).
        """
        rows, _ = self._inputs(x)
        return self._k.softmax_cross_entropy_loss(self.predict(rows), self._targets(t, rows)) + self._l2()

    def accuracy(self, x, t):
        """Fraction of rows whose highest score is the target class (t one-hot or labels).

        Ties go to the first class, as np.argmax; on the GPU only the count comes back.
        """
        rows, _ = self._inputs(x)
        return self._k.count_correct(self.predict(rows), self._targets(t, rows)) / rows.shape[0]

    def gradient(self, x, t):
        """Backprop gradient of loss(x, t): a dict like params (new arrays).

        Kept as self.grads for update_params.  The input gradient of the first
        layer is never computed: nothing needs it.
        """
        rows, _ = self._inputs(x)
        # Neither the loss nor the L2 term's value is needed: on the GPU nothing waits for the device.
        self.lastLayer.forward_lazy(self.predict(rows), self._targets(t, rows))
        dout = self.lastLayer.backward(1)
        if self._fused():  # the ReLU's backward inside the product that gives the hidden gradient
            affine2 = self.layers["Affine2"]
            affine2.backward(dout, input_grad=False)
            W2, _ = affine2._params()
            mask = self.layers["Relu1"].mask
            dhidden = _device.empty(self.device, mask.shape, W2.dtype)
            self._k.affine_relu_backward_input(dhidden, dout, W2, mask)
            dout = dhidden
        else:
            dout = self.layers["Affine2"].backward(dout)
            dout = self.layers["Relu1"].backward(dout)
        self.layers["Affine1"].backward(dout, input_grad=False)
        grads = {}
        for n in ("1", "2"):
            layer, W = self.layers["Affine" + n], self.params["W" + n]
            grads["W" + n] = _device.empty(self.device, W.shape, W.dtype)
            self._k.add_scaled(grads["W" + n].reshape(W.size), layer.dW.reshape(W.size), self.regularization,
                               W.reshape(W.size))
            grads["b" + n] = layer.db
        self.grads = grads
        return grads

    def update_params(self, learning_rate):
        """params[k] -= learning_rate * grads[k] in place, with the last gradient() result."""
        if self.grads is None:
            raise RuntimeError("update_params needs a gradient: call gradient(x, t) first")
        lr = real(learning_rate, "learning_rate")
        for key in PARAM_NAMES:
            p, g = self.params[key], self.grads[key]
            if self.device == "cuda":
                if not (_device.is_gpu_array(p) and p.is_c_contiguous() and p.shape == g.shape
                        and p.dtype == g.dtype):
                    raise ValueError(f"params['{key}'] must be a C-contiguous {g.dtype} GPU array of shape {g.shape}")
            else:
                if not (isinstance(p, np.ndarray) and p.flags.c_contiguous and p.flags.writeable
                        and p.shape == g.shape):
                    raise ValueError(f"params['{key}'] must be a writeable C-contiguous array of shape {g.shape}")
                g = g.astype(p.dtype, copy=False)
            self._k.axpy(p.reshape(p.size), -lr, g.reshape(g.size))

    def numerical_gradient(self, x, t, h=1e-4):
        """Central-difference gradient (f(w + h) - f(w - h)) / 2h of loss(x, t)
        for every element of every parameter: the textbook's definition.

        Far faster than the textbook, which recomputes the whole network twice
        per element: here each element only revisits the rows and the hidden
        unit it moves.  Use float64 for a gradient check.  At float32 the loss
        differences are still taken in float64, but w + h and w - h are rounded
        to float32 as storing them would be, which changes the step by up to
        ulp(w) / 2h (about 1.5e-4 of the gradient's size for weights near 0.3);
        the textbook loop (a net with swapped layers) differences float32
        losses, which leaves about 3e-3.
        """
        if not self._fused():
            return self._numerical_gradient_layer_by_layer(x, t, real(h, "h"))
        rows, _ = self._inputs(x)
        t = self._targets(t, rows, keep_labels=False)
        if self.device == "cuda":
            p = {k: _device.as_float("cuda", v, k, self.dtype, ndims=None) for k, v in self.params.items()}
        else:
            p = {k: np.ascontiguousarray(v, self.dtype) for k, v in self.params.items()}
        grads = {k: _device.empty(self.device, v.shape, v.dtype) for k, v in p.items()}
        self._k.two_layer_numerical_gradient(grads["W1"], grads["b1"], grads["W2"], grads["b2"], rows, t,
                                     p["W1"], p["b1"], p["W2"], p["b2"], self.regularization, real(h, "h"))
        return grads

    def _numerical_gradient_layer_by_layer(self, x, t, h):
        """The textbook's loop over loss(x, t), for nets whose layers were swapped
        (the fast kernel knows only Affine -> ReLU -> Affine).  Each parameter
        element is moved and put back exactly; on the GPU each move is a copy
        of one element (slow, as the textbook is, but right)."""
        rows, _ = self._inputs(x)
        t = self._targets(t, rows)
        grads = {}
        for key in PARAM_NAMES:
            p = self.params[key]
            grad = np.zeros(p.shape, p.dtype)
            for idx in np.ndindex(p.shape):
                saved = p[idx]
                p[idx] = float(saved) + h
                plus = self.loss(rows, t)
                p[idx] = saved - h
                minus = self.loss(rows, t)
                p[idx] = saved
                grad[idx] = (plus - minus) / (2 * h)
            grads[key] = _device.as_float(self.device, grad, key, ndims=None) if self.device == "cuda" else grad
        return grads

    def save(self, path):
        """Write the parameters and settings to an .npz file (see TwoLayerNet.load);
        GPU parameters are copied to the host for it.

        As with np.savez, ".npz" is appended to a name without it; returns the
        name written (or path itself, for an open file).
        """
        np.savez(path, regularization=self.regularization, dtype=self.dtype.name,
                 **{key: _device.to_host(self.params[key]) for key in PARAM_NAMES})
        return _npz_name(path) if isinstance(path, (str, os.PathLike)) else path

    @classmethod
    def load(cls, path, device="cpu"):
        """A TwoLayerNet with the parameters saved by save(path).

        path is the file's name (or an open file); the name given to save()
        works too when save() appended ".npz" to it.

        Refuses (ValueError) a file that is not an .npz archive, or whose arrays
        are missing or do not make a two-layer net (shapes W1 (D, H), b1 (H,),
        W2 (H, C), b2 (C,); real values; a dtype and regularization that
        TwoLayerNet() takes).  Only plain arrays are read (no pickled
        objects).  numpy's global random state is left as it was.
        """
        device = _checked_device(device)
        if isinstance(path, (str, os.PathLike)) and not os.path.exists(path) and os.path.exists(_npz_name(path)):
            path = _npz_name(path)
        try:
            archive = np.load(path, allow_pickle=False)
        except (ValueError, zipfile.BadZipFile) as e:  # numpy takes any other file for a pickle
            raise ValueError(f"{path} is not a saved TwoLayerNet: not an .npz archive") from e
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path} is not a saved TwoLayerNet: one .npy array, not an .npz archive")
        with archive as f:
            missing = [k for k in PARAM_NAMES + ("regularization", "dtype") if k not in f.files]
            if missing:
                raise ValueError(f"{path} is not a saved TwoLayerNet: missing {', '.join(missing)}")
            arrays = {k: f[k] for k in PARAM_NAMES}
            regularization, dtype = f["regularization"], str(f["dtype"])
        W1, b1, W2, b2 = (arrays[k] for k in PARAM_NAMES)
        if (W1.ndim != 2 or W2.ndim != 2 or b1.shape != (W1.shape[1],) or W2.shape[0] != W1.shape[1]
                or b2.shape != (W2.shape[1],) or 0 in W1.shape or 0 in W2.shape):
            shapes = ", ".join(f"{k} {arrays[k].shape}" for k in PARAM_NAMES)
            raise ValueError(f"{path}: shapes do not make a two-layer net ({shapes})")
        # Not cls(...): its initial draw would be overwritten, and would move np.random's state.
        net = cls.__new__(cls)
        net.device = device
        try:
            net._settings(regularization, dtype)
            params = {k: as_float(arrays[k], k, net.dtype, ndims=None) for k in PARAM_NAMES}
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path} is not a saved TwoLayerNet: {e}") from e
        net._assemble(params)
        return net
