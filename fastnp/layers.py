"""The course's layer objects: OutputLayer, ReLU, Sigmoid, Affine.

Each layer checks and converts its input, calls a kernel, and keeps what its
backward needs.  Layers hold state between forward and backward, so one
layer object must not be used from several threads at once; the kernels
themselves are safe to call concurrently.
"""
import numpy as np

from fastnp._checks import as_numeric, as_bias, as_float, as_rows, as_targets, check_cols, real
from fastnp.kernels.cpu import (
    affine_backward_input,
    affine_backward_params,
    affine_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    softmax_rows,
)


def _need_forward(layer, ready):
    if not ready:
        raise RuntimeError(f"{type(layer).__name__}.backward called before forward")


def _as_dout(dout, shape, forward_dtype):
    """dout as float32 when it and the forward pass are float32, else float64; shape-checked."""
    arr = as_numeric(dout, "dout")
    both_f32 = forward_dtype == np.float32 and arr.dtype in (np.float32, np.float16)
    dout = as_float(arr, "dout", np.float32 if both_f32 else np.float64, ndims=None)
    if dout.shape != shape:
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {shape}")
    return dout


class OutputLayer:
    """Softmax followed by the course's cross-entropy, as one fused kernel.

    forward(x, t) returns the mean loss -sum(t * log(softmax(x) + 1e-9)) / N
    for scores x: (N, C) and targets t: (N, C) one-hot/soft or N labels.  The
    same pass over the scores computes the gradient, which backward(dout)
    returns as dout * (softmax(x) - t) / N.  The first backward after a
    forward hands that array over; a second one recomputes it from x (so it
    would see changes made to x in between).
    """

    def __init__(self):
        self.loss = None
        self.t = None
        self._x = None
        self._dx = None
        self._shape = None

    def forward(self, x, t):
        rows, _ = as_rows(x, "x")
        self.t = as_targets(t, "t", rows.shape[0], rows.shape[1], rows.dtype)
        self._x, self._shape = rows, np.shape(x)
        self._dx = np.empty_like(rows)
        self.loss = softmax_cross_entropy(self._dx, rows, self.t)
        return self.loss

    @property
    def y(self):
        """softmax(x) of the last forward (computed on demand)."""
        _need_forward(self, self._x is not None)
        out = np.empty_like(self._x)
        softmax_rows(out, self._x)
        return out

    def backward(self, dout=1):
        _need_forward(self, self._x is not None)
        dout = real(dout, "dout")
        dx = self._dx
        if dx is None:  # handed out by an earlier backward: recompute rather than share
            dx = np.empty_like(self._x)
            softmax_cross_entropy(dx, self._x, self.t)
        self._dx = None
        if dout != 1.0:
            dx *= dout
        return dx.reshape(self._shape)


class ReLU:
    """max(x, 0) elementwise, any shape.  mask is the textbook's (x <= 0)."""

    def __init__(self):
        self.mask = None
        self._dtype = None

    def forward(self, x):
        x = as_float(x, "x", ndims=None)
        out = np.empty_like(x)
        self._dtype = x.dtype
        self.mask = np.empty(x.shape, np.bool_)
        relu_forward(out.reshape(-1), self.mask.reshape(-1), x.reshape(-1))
        return out

    def backward(self, dout):
        _need_forward(self, self.mask is not None)
        dout = _as_dout(dout, self.mask.shape, self._dtype)
        dx = np.empty_like(dout)
        relu_backward(dx.reshape(-1), dout.reshape(-1), self.mask.reshape(-1))
        return dx


class Sigmoid:
    """1 / (1 + exp(-x)) elementwise, any shape, without overflow for large |x|."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        x = as_float(x, "x", ndims=None)
        self.out = np.empty_like(x)
        sigmoid_forward(self.out.reshape(-1), x.reshape(-1))
        return self.out

    def backward(self, dout):
        _need_forward(self, self.out is not None)
        dout = _as_dout(dout, self.out.shape, self.out.dtype)
        dx = np.empty_like(dout)
        sigmoid_backward(dx.reshape(-1), dout.reshape(-1), self.out.reshape(-1).astype(dout.dtype, copy=False))
        return dx


class Affine:
    """x @ W + b.  W: (K, M), b: (M,) or (1, M).

    A float32/float64 ndarray W is kept as the very same object (training
    code updates it in place, as in the textbook); other W are converted.
    The layer computes in W's dtype: inputs are converted to it.
    x: (N, K) (or (K,), or (N, ...) flattened to (N, K)).  backward(dout)
    sets dW: (K, M) and db: (M,) and returns dx shaped like x.
    """

    def __init__(self, W, b):
        if isinstance(W, np.ndarray) and W.dtype in (np.float32, np.float64) and W.ndim == 2:
            self.W = W
        else:
            self.W = as_float(W, "W", ndims=(2,))
        if self.W.size == 0:
            raise ValueError(f"W is empty (shape {self.W.shape})")
        M = self.W.shape[1]
        if isinstance(b, np.ndarray) and b.dtype == self.W.dtype and b.shape in ((M,), (1, M)):
            self.b = b
        else:
            self.b = as_bias(b, M, "b", self.W.dtype)
        self.x = None
        self.dW = None
        self.db = None
        self._x_shape = None

    def _params(self):
        M = self.W.shape[1]
        if self.b.shape not in ((M,), (1, M)):
            raise ValueError(f"b has shape {self.b.shape}, W has shape {self.W.shape}")
        return np.ascontiguousarray(self.W), np.ascontiguousarray(self.b).reshape(M)

    def forward(self, x):
        W, b = self._params()
        arr = as_float(x, "x", W.dtype, ndims=None)
        self._x_shape = arr.shape
        if arr.ndim == 0:
            raise ValueError("x must have at least one dimension")
        x2 = arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)
        check_cols(x2, W.shape[0], "x", "W", W.shape)
        self.x = x2
        out = np.empty((x2.shape[0], W.shape[1]), W.dtype)
        affine_forward(out, x2, W, b)
        return out[0] if arr.ndim == 1 else out

    def backward(self, dout, *, input_grad=True):
        """dW, db from dout: (N, M); returns dx, or None with input_grad=False."""
        _need_forward(self, self.x is not None)
        W, _ = self._params()
        out_shape = (W.shape[1],) if len(self._x_shape) == 1 else (self.x.shape[0], W.shape[1])
        dout = as_float(dout, "dout", W.dtype, ndims=None)
        if dout.shape != out_shape:
            raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {out_shape}")
        dout = dout.reshape(self.x.shape[0], W.shape[1])
        self.dW = np.empty_like(W)
        self.db = np.empty(W.shape[1], W.dtype)
        affine_backward_params(self.dW, self.db, dout, self.x)
        if not input_grad:
            return None
        dx = np.empty_like(self.x)
        affine_backward_input(dx, dout, W)
        return dx.reshape(self._x_shape)
