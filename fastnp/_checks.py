"""Argument checking and conversion shared by the public functions and layers.

Rules (see README, "Input handling"):
- lists, bool and integer arrays (and object arrays of real numbers) become
  float64; float32 (and float16), in either byte order, give float32 in the
  machine's byte order; complex and string data, object arrays holding
  anything else (None, strings) and masked arrays with masked entries raise
  TypeError;
- results are C-contiguous, converted copies where needed: the caller's
  arrays are never written to;
- shapes are checked and reported by argument name in ValueError.
"""
import math
import numbers
import operator

import numpy as np


def as_numeric(x, name):
    """x as a numpy array of bool, integer or float dtype (object arrays of real
    numbers become float64); TypeError for anything else, masked arrays with
    masked entries included (converting would drop the mask without a word)."""
    if isinstance(x, np.ma.MaskedArray) and np.ma.is_masked(x):
        raise TypeError(f"{name} is a masked array with masked entries, and fastnp has no masks: "
                        f"pass {name}.filled(value), or leave the masked rows out")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged nested lists and the like
        raise ValueError(f"{name} must be a rectangular array of numbers: {err}") from None
    if arr.dtype.kind in "biuf":
        return arr
    if arr.dtype.kind == "O" and all(isinstance(v, numbers.Real) for v in arr.flat):
        # Only real numbers: numpy would also turn None into NaN and strings into numbers.
        return arr.astype(np.float64)
    raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _dtype_of(a):
    """The dtype of a numpy or GPU array (numba device array, __cuda_array_interface__
    object); float64 for anything else (lists, scalars)."""
    if isinstance(a, np.ndarray) or getattr(a, "__cuda_ndarray__", False):
        return np.dtype(a.dtype)
    if hasattr(a, "__cuda_array_interface__"):
        return np.dtype(a.__cuda_array_interface__["typestr"])
    return np.dtype(np.float64)


def float_dtype(*arrays):
    """float32 when every argument holds float32 or float16 (in either byte
    order: big-endian data from a file is float32 too), else float64."""
    kinds = [_dtype_of(a) for a in arrays]
    if all(k.kind == "f" and k.itemsize <= 4 for k in kinds):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def as_float(x, name, dtype=None, ndims=(1, 2)):
    """x as a C-contiguous float array (float32 or float64) with ndim in ndims.

    dtype None picks float_dtype(x).  Raises TypeError for non-real data and
    ValueError for a wrong number of dimensions or an empty array.
    """
    if (type(x) is np.ndarray and x.dtype in _FLOATS and x.flags.c_contiguous and x.size
            and (ndims is None or x.ndim in ndims) and (dtype is None or x.dtype == dtype)):
        return x  # already what the kernels take: the common case, kept cheap
    arr = as_numeric(x, name)
    if ndims is not None and arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); an empty batch or row has nothing to compute")
    if dtype is None:
        dtype = float_dtype(arr)
    return np.ascontiguousarray(arr, dtype=dtype)


def as_rows(x, name, dtype=None):
    """A 1-D or 2-D x as (N, D) rows, and whether it was a single 1-D row."""
    arr = as_float(x, name, dtype)
    if arr.ndim == 1:
        return arr.reshape(1, -1), True
    return arr, False


def as_targets(t, name, n, c, dtype, keep_labels=False):
    """Targets as an (n, c) float array of dtype, or with keep_labels as (n,)
    int64 labels when they were given as labels (the fused loss kernels read
    those directly).

    Accepts (n, c) one-hot or soft targets (any values: they weight the log
    probabilities), a (c,) one-hot row when n == 1, or n integer labels in
    [0, c) (also given as integral floats).  A scalar label is accepted for n == 1.
    """
    if type(t) is np.ndarray and t.shape == (n, c) and t.dtype == dtype and t.flags.c_contiguous:
        return t
    if keep_labels and type(t) is np.ndarray and t.dtype == np.int64 and t.shape == (n,) and t.flags.c_contiguous \
            and (n == 0 or (t.min() >= 0 and t.max() < c)):
        return t
    arr = as_numeric(t, name)
    one_hot_row = n == 1 and c > 1 and arr.shape == (c,)
    if arr.shape == (n, c) or one_hot_row:
        return np.ascontiguousarray(arr.reshape(n, c), dtype=dtype)
    if arr.ndim <= 1 and arr.size == n:
        labels = arr.reshape(n)
        if labels.dtype.kind == "f":
            if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
                raise ValueError(f"{name} as labels must be whole numbers in [0, {c}); got non-integral values")
        elif labels.dtype.kind == "b":
            raise TypeError(f"{name} as labels must be integers, got bool")
        # Range first: a cast of 1e20 or of a uint64 above 2**63 would wrap.
        if labels.min() < 0 or labels.max() >= c:
            raise ValueError(
                f"{name} holds labels outside [0, {c}): min {labels.min()}, max {labels.max()}")
        labels = labels.astype(np.int64)
        if keep_labels:
            return np.ascontiguousarray(labels)
        onehot = np.zeros((n, c), dtype=dtype)
        onehot[np.arange(n), labels] = 1
        return onehot
    raise ValueError(
        f"{name} must be one-hot targets of shape ({n}, {c}) or {n} integer labels, got shape {arr.shape}")


def check_cols(x, cols, x_name, w_name, w_shape):
    if x.shape[1] != cols:
        raise ValueError(
            f"{x_name} has {x.shape[1]} columns but {w_name} has {cols} rows "
            f"({x_name} shape {x.shape}, {w_name} shape {w_shape})")


def as_bias(b, m, name, dtype):
    """A bias of shape (m,) or (1, m) as a C-contiguous (m,) array of dtype."""
    arr = as_numeric(b, name)
    if arr.shape not in ((m,), (1, m)):
        raise ValueError(f"{name} must have shape ({m},) or (1, {m}), got {arr.shape}")
    return np.ascontiguousarray(arr.reshape(m), dtype=dtype)


def count(value, name, minimum):
    """An integer >= minimum (bools refused), for iterations, batch sizes, seeds."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def real(value, name, minimum=None):
    """A finite real scalar (learning rates, regularization strengths)."""
    # Plain int and float (backward's default dout = 1) skip the ABC check, which costs 0.5 us a call.
    if type(value) not in (float, int) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value
