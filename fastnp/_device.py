"""Where the arithmetic runs: device="cpu" or "cuda", and moving arrays there.

Rules (README, "GPU"):
- device=None follows the arrays: numba device arrays and objects with
  __cuda_array_interface__ (torch or CuPy tensors on the GPU) run on the
  GPU, without copies; everything else runs on the CPU.
- device="cuda" moves host inputs to the GPU (one copy per call) and keeps
  results there as numba device arrays; device="cpu" brings GPU inputs back.
- Asking for "cuda" without numba-cuda or a usable GPU raises RuntimeError
  saying which is missing.  Importing fastnp never needs either: the CUDA
  kernels are imported on first use.
- The GPU arrays fastnp makes (outputs, gradients, copies of host inputs)
  come from fastnp's cache of device blocks (fastnp.cuda_pool): a training
  step reuses the last step's memory instead of allocating and freeing.
- GPU inputs are not converted on the device: they must already be
  C-contiguous float32 or float64 (TypeError/ValueError otherwise), except
  integer labels, which are one-hot encoded through the host.
"""
import functools
import importlib.util

import numpy as np

import fastnp.kernels.cpu as cpu_kernels
from fastnp import _checks

DEVICES = ("cpu", "cuda")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_gpu_array(x):
    """True for numba device arrays (also the simulator's) and __cuda_array_interface__ objects."""
    if isinstance(x, np.ndarray):
        return False
    return hasattr(x, "__cuda_array_interface__") or getattr(x, "__cuda_ndarray__", False)


_cuda_kernels = None  # fastnp.kernels.cuda once a GPU has been found


def cuda_kernels():
    """fastnp.kernels.cuda, or RuntimeError saying why the GPU cannot be used.

    The checks run until one succeeds; every layer call on the GPU comes here.
    """
    global _cuda_kernels
    if _cuda_kernels is not None:
        return _cuda_kernels
    if importlib.util.find_spec("numba_cuda") is None:
        raise RuntimeError("device='cuda' needs NVIDIA's numba-cuda package, which is not installed: "
                           "pip install 'fastnp[cuda]'")
    from numba import cuda

    if not cuda.is_available():
        raise RuntimeError("device='cuda' but no usable CUDA GPU was found (numba-cuda is installed; "
                           "check the NVIDIA driver with nvidia-smi, or cuda.detect())")
    import fastnp.kernels.cuda

    _cuda_kernels = fastnp.kernels.cuda
    return _cuda_kernels


def kernels(device):
    """The kernel family of a resolved device."""
    return cuda_kernels() if device == "cuda" else cpu_kernels


def resolve(device, *arrays):
    """'cpu' or 'cuda': the device asked for, or else the one the arrays live on."""
    if device is None:  # a plain loop: this runs on every call of every layer
        device = "cpu"
        for a in arrays:
            if type(a) is not np.ndarray and is_gpu_array(a):
                device = "cuda"
                break
    elif device not in DEVICES:
        raise ValueError(f"device must be 'cpu' or 'cuda' (or None: follow the arrays), got {device!r}")
    if device == "cuda":
        cuda_kernels()
    return device


def _cuda():
    from numba import cuda

    return cuda


def _as_gpu(x):
    """A numba device array viewing x (no copy)."""
    cuda = _cuda()
    if getattr(x, "__cuda_ndarray__", False):
        return x
    return cuda.as_cuda_array(x)


def to_host(x):
    """x as a numpy array (copied back from the GPU where it lives there)."""
    return _as_gpu(x).copy_to_host() if is_gpu_array(x) else x


@functools.lru_cache(maxsize=None)
def _pool():
    """fastnp.cuda_pool, which the GPU arrays fastnp makes come from; None under
    the CUDA simulator, which has no device memory to cache (set before numba
    is imported, so fixed for the process)."""
    from fastnp.kernels.cuda._launch import simulated

    if simulated():
        return None
    from fastnp import cuda_pool

    return cuda_pool


def empty(device, shape, dtype):
    """An uninitialized array on `device` (on the GPU from fastnp's cache: fastnp.cuda_pool)."""
    if device == "cpu":
        return np.empty(shape, dtype)
    pool = _pool()
    return pool.device_array(shape, dtype) if pool else _cuda().device_array(shape, dtype)


def _to_gpu(host):
    """A GPU copy of a C-contiguous host array (from fastnp's cache)."""
    pool = _pool()
    return pool.to_device(host) if pool else _cuda().to_device(host)


def as_float(device, x, name, dtype=None, ndims=(1, 2)):
    """_checks.as_float on `device`: a C-contiguous float32/float64 array there."""
    if device == "cpu":
        return _checks.as_float(x if type(x) is np.ndarray else to_host(x), name, dtype, ndims)
    if not is_gpu_array(x):
        return _to_gpu(_checks.as_float(x, name, dtype, ndims))
    arr = _as_gpu(x)
    if arr.dtype not in _FLOATS:
        raise TypeError(f"{name} is a {arr.dtype} array on the GPU; fastnp computes in float32 or float64 "
                        f"there and does not convert on the device: convert it first")
    if dtype is not None and arr.dtype != dtype:
        raise TypeError(f"{name} is {arr.dtype} on the GPU but this computes in {np.dtype(dtype)}: convert it first")
    if ndims is not None and arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not arr.is_c_contiguous():
        raise ValueError(f"{name} must be C-contiguous on the GPU (make a contiguous copy first)")
    return arr


def as_rows(device, x, name, dtype=None):
    """_checks.as_rows on `device`."""
    arr = as_float(device, x, name, dtype)
    if arr.ndim == 1:
        return arr.reshape(1, arr.shape[0]), True
    return arr, False


def as_targets(device, t, name, n, c, dtype, keep_labels=False):
    """_checks.as_targets on `device`: GPU (n, c) targets of dtype, and with
    keep_labels GPU (n,) integer labels, are used as they are (a label out
    of [0, c) there makes the loss NaN: checking it would mean a copy back)."""
    if device == "cpu" and type(t) is np.ndarray:
        return _checks.as_targets(t, name, n, c, dtype, keep_labels)
    if device == "cuda" and is_gpu_array(t):
        arr = _as_gpu(t)
        if arr.shape == (n, c) and arr.dtype == dtype and arr.is_c_contiguous():
            return arr
        if keep_labels and arr.shape == (n,) and np.dtype(arr.dtype).kind in "iu" and arr.is_c_contiguous():
            return arr
    targets = _checks.as_targets(to_host(t), name, n, c, dtype, keep_labels)
    return _to_gpu(targets) if device == "cuda" else targets
