"""The course's layer objects: OutputLayer, ReLU, Sigmoid, Affine.

Each layer checks and converts its input, calls a kernel, and keeps what its
backward needs.  Layers hold state between forward and backward, so one
layer object must not be used from several threads at once; the kernels
themselves are safe to call concurrently.

Devices (fastnp._device): a layer made with device=None runs where its
input lives (Affine: where W lives); device="cuda" or "cpu" moves inputs
there.  On the GPU, outputs and gradients are numba device arrays and the
parameters stay there; losses come back as floats.
"""
import numpy as np

from fastnp import _device
from fastnp._checks import as_numeric, as_bias, as_float, check_cols, real


def _need_forward(layer, ready):
    if not ready:
        raise RuntimeError(f"{type(layer).__name__}.backward called before forward")


def _as_dout(device, dout, shape, forward_dtype):
    """dout as float32 when it and the forward pass are float32, else float64; shape-checked.

    On the GPU dout must already have the forward pass's dtype (no conversion there).
    """
    if device == "cuda":
        dout = _device.as_float(device, dout, "dout", forward_dtype, ndims=None)
    else:
        arr = as_numeric(_device.to_host(dout), "dout")
        both_f32 = forward_dtype == np.float32 and arr.dtype in (np.float32, np.float16)
        dout = as_float(arr, "dout", np.float32 if both_f32 else np.float64, ndims=None)
    if dout.shape != shape:
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {shape}")
    return dout


def _flat(a):
    """a as a 1-D view (numpy or device array; a is C-contiguous)."""
    return a.reshape(a.size)


class OutputLayer:
    """Softmax followed by the course's cross-entropy, as one fused kernel.

    forward(x, t) returns the mean loss -sum(t * log(softmax(x) + 1e-9)) / N
    for scores x: (N, C) and targets t: (N, C) one-hot/soft or N labels, and
    keeps it as .loss; .t holds the targets as the kernel reads them (labels
    stay (N,) int64 labels).  The same pass over the scores computes the gradient,
    which backward(dout) returns as dout * (softmax(x) - t) / N.  The first backward after a
    forward hands that array over; a second one recomputes it from x (so it
    would see changes made to x in between).
    """

    def __init__(self, device=None):
        self.device = _device.resolve(device) if device is not None else None
        self.t = None
        self._loss = None
        self._x = None
        self._dx = None
        self._shape = None
        self._on = None

    @property
    def loss(self):
        """The last forward's loss as a float (None before the first forward)."""
        if self._loss is None or isinstance(self._loss, float):
            return self._loss
        return float(self._loss.copy_to_host()[0])  # a (1,) device array

    def forward(self, x, t):
        self.forward_lazy(x, t)
        return self.loss

    def forward_lazy(self, x, t):
        """forward without fetching the loss: on the GPU it stays there (no wait for
        the device) until .loss is read.  For training loops that only need the gradient."""
        on = self._on = _device.resolve(self.device, x)
        rows, single = _device.as_rows(on, x, "x")
        self.t = _device.as_targets(on, t, "t", rows.shape[0], rows.shape[1], rows.dtype, keep_labels=True)
        self._x, self._shape = rows, rows.shape[1:] if single else rows.shape
        self._dx = _device.empty(on, rows.shape, rows.dtype)
        if on == "cpu":  # the small-batch case is dominated by call overhead: keep it direct
            self._loss = _device.cpu_kernels.softmax_cross_entropy(self._dx, rows, self.t)
        else:
            self._loss = _device.empty(on, 1, np.float64)
            _device.kernels(on).softmax_cross_entropy_to(self._loss, 0, self._dx, rows, self.t)

    @property
    def y(self):
        """softmax(x) of the last forward (computed on demand)."""
        _need_forward(self, self._x is not None)
        out = _device.empty(self._on, self._x.shape, self._x.dtype)
        _device.kernels(self._on).softmax_rows(out, self._x)
        return out

    def backward(self, dout=1):
        _need_forward(self, self._x is not None)
        dout = real(dout, "dout")
        k = _device.kernels(self._on)
        dx = self._dx
        if dx is None:  # handed out by an earlier backward: recompute rather than share
            dx = _device.empty(self._on, self._x.shape, self._x.dtype)
            k.softmax_cross_entropy(dx, self._x, self.t)
        self._dx = None
        if dout != 1.0:
            if self._on == "cpu":
                dx *= dout
            else:  # device arrays have no operators: dx += (dout - 1) dx
                k.axpy(_flat(dx), dout - 1.0, _flat(dx))
        return dx if dx.shape == self._shape else dx.reshape(self._shape)


class ReLU:
    """max(x, 0) elementwise, any shape.  mask is the textbook's (x <= 0)."""

    def __init__(self, device=None):
        self.device = _device.resolve(device) if device is not None else None
        self.mask = None
        self._dtype = None
        self._on = None

    def forward(self, x):
        on = self._on = _device.resolve(self.device, x)
        x = _device.as_float(on, x, "x", ndims=None)
        out = _device.empty(on, x.shape, x.dtype)
        self._dtype = x.dtype
        self.mask = _device.empty(on, x.shape, np.bool_)
        _device.kernels(on).relu_forward(_flat(out), _flat(self.mask), _flat(x))
        return out

    def take_mask(self, on, mask, dtype):
        """The state forward would leave, from a fused forward (Affine.forward_relu)."""
        self._on, self.mask, self._dtype = on, mask, dtype

    def backward(self, dout):
        _need_forward(self, self.mask is not None)
        dout = _as_dout(self._on, dout, self.mask.shape, self._dtype)
        dx = _device.empty(self._on, dout.shape, dout.dtype)
        _device.kernels(self._on).relu_backward(_flat(dx), _flat(dout), _flat(self.mask))
        return dx


class Sigmoid:
    """1 / (1 + exp(-x)) elementwise, any shape, without overflow for large |x|."""

    def __init__(self, device=None):
        self.device = _device.resolve(device) if device is not None else None
        self.out = None
        self._on = None

    def forward(self, x):
        on = self._on = _device.resolve(self.device, x)
        x = _device.as_float(on, x, "x", ndims=None)
        self.out = _device.empty(on, x.shape, x.dtype)
        _device.kernels(on).sigmoid_forward(_flat(self.out), _flat(x))
        return self.out

    def backward(self, dout):
        _need_forward(self, self.out is not None)
        dout = _as_dout(self._on, dout, self.out.shape, self.out.dtype)
        dx = _device.empty(self._on, dout.shape, dout.dtype)
        out = _flat(self.out)
        if self._on == "cpu":
            out = out.astype(dout.dtype, copy=False)
        _device.kernels(self._on).sigmoid_backward(_flat(dx), _flat(dout), out)
        return dx


class Affine:
    """x @ W + b.  W: (K, M), b: (M,) or (1, M).

    A float32/float64 ndarray W is kept as the very same object (training
    code updates it in place, as in the textbook); other W are converted.
    The layer computes in W's dtype: inputs are converted to it.
    x: (N, K) (or (K,), or (N, ...) flattened to (N, K)).  backward(dout)
    sets dW: (K, M) and db: (M,) and returns dx shaped like x.

    device=None runs where W lives (a GPU array W is kept as given, viewed
    as a numba device array); device="cuda" with a host W copies W and b to
    the GPU once, and self.W, self.b are then those device copies.
    """

    def __init__(self, W, b, device=None):
        self.device = _device.resolve(device, W)
        if self.device == "cpu" and isinstance(W, np.ndarray) and W.dtype in (np.float32, np.float64) \
                and W.ndim == 2:
            self.W = W
        else:
            self.W = _device.as_float(self.device, W, "W", ndims=(2,))
        if self.W.size == 0:
            raise ValueError(f"W is empty (shape {self.W.shape})")
        M = self.W.shape[1]
        if self.device == "cuda":
            b = _device.as_float("cuda", b, "b", self.W.dtype)
            if b.shape not in ((M,), (1, M)):
                raise ValueError(f"b must have shape ({M},) or (1, {M}), got {b.shape}")
            self.b = b
        elif isinstance(b, np.ndarray) and b.dtype == self.W.dtype and b.shape in ((M,), (1, M)):
            self.b = b
        else:
            self.b = as_bias(_device.to_host(b), M, "b", self.W.dtype)
        self.x = None
        self.dW = None
        self.db = None
        self._x_shape = None

    def _params(self):
        M = self.W.shape[1]
        if self.b.shape not in ((M,), (1, M)):
            raise ValueError(f"b has shape {self.b.shape}, W has shape {self.W.shape}")
        if self.device == "cuda":
            return self.W, self.b.reshape(M)
        return np.ascontiguousarray(self.W), np.ascontiguousarray(self.b).reshape(M)

    def _take_input(self, x):
        """x as (N, K) rows of W's dtype, kept for backward; returns (rows, W, b, single row?)."""
        W, b = self._params()
        arr = _device.as_float(self.device, x, "x", W.dtype, ndims=None)
        self._x_shape = arr.shape
        if arr.ndim == 0:
            raise ValueError("x must have at least one dimension")
        x2 = arr.reshape(1, arr.size) if arr.ndim == 1 else arr.reshape(arr.shape[0], arr.size // arr.shape[0])
        check_cols(x2, W.shape[0], "x", "W", W.shape)
        self.x = x2
        return x2, W, b, arr.ndim == 1

    def forward(self, x):
        x2, W, b, single = self._take_input(x)
        out = _device.empty(self.device, (x2.shape[0], W.shape[1]), W.dtype)
        _device.kernels(self.device).affine_forward(out, x2, W, b)
        return out[0] if single else out

    def forward_relu(self, x, relu):
        """relu.forward(self.forward(x)) in one pass (bias and ReLU fused into the
        product's epilogue), leaving both layers the state their backward needs."""
        x2, W, b, single = self._take_input(x)
        out = _device.empty(self.device, (x2.shape[0], W.shape[1]), W.dtype)
        mask = _device.empty(self.device, out.shape, np.bool_)
        _device.kernels(self.device).affine_relu_forward(out, mask, x2, W, b)
        relu.take_mask(self.device, mask[0] if single else mask, W.dtype)
        return out[0] if single else out

    def backward(self, dout, *, input_grad=True):
        """dW, db from dout: (N, M); returns dx, or None with input_grad=False."""
        _need_forward(self, self.x is not None)
        W, _ = self._params()
        out_shape = (W.shape[1],) if len(self._x_shape) == 1 else (self.x.shape[0], W.shape[1])
        dout = _device.as_float(self.device, dout, "dout", W.dtype, ndims=None)
        if dout.shape != out_shape:
            raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {out_shape}")
        dout = dout.reshape(self.x.shape[0], W.shape[1])
        k = _device.kernels(self.device)
        self.dW = _device.empty(self.device, W.shape, W.dtype)
        self.db = _device.empty(self.device, W.shape[1], W.dtype)
        k.affine_backward_params(self.dW, self.db, dout, self.x)
        if not input_grad:
            return None
        dx = _device.empty(self.device, self.x.shape, W.dtype)
        k.affine_backward_input(dx, dout, W)
        return dx.reshape(self._x_shape)
