"""In-place scaled additions and the L2 sum used by the training code.

The *_serial kernels are plain loops (callable from other kernels); axpy and
add_scaled pick them or their threaded twins by size: over a 3072x1024
weight matrix these passes are memory-bound, and two cores move about 1.8
times the bytes of one.
"""
import numpy as np
from numba import njit, prange

from .._contracts import check_add_scaled, check_axpy, check_floats
from ._threads import use_threads


@njit(cache=True)
def axpy_serial(y, alpha, x):
    """y += alpha * x, in place.  y, x: (n,) of one float dtype."""
    for i in range(y.shape[0]):
        y[i] += alpha * x[i]


@njit(cache=True, parallel=True)
def axpy_parallel(y, alpha, x):
    """axpy_serial on numba's threads (elementwise, so race-free and bitwise equal)."""
    for i in prange(y.shape[0]):
        y[i] += alpha * x[i]


@njit(cache=True)
def add_scaled_serial(out, x, alpha, y):
    """out = x + alpha * y.  out, x, y: (n,) of one float dtype."""
    for i in range(out.shape[0]):
        out[i] = x[i] + alpha * y[i]


@njit(cache=True, parallel=True)
def add_scaled_parallel(out, x, alpha, y):
    """add_scaled_serial on numba's threads."""
    for i in prange(out.shape[0]):
        out[i] = x[i] + alpha * y[i]


def axpy(y, alpha, x):
    """y += alpha * x, in place.  y, x: (n,) of one float dtype; threads for large n."""
    check_floats("axpy", "y and x", y, x)
    check_axpy.py_func(y.shape, x.shape)
    (axpy_parallel if use_threads(y.shape[0]) else axpy_serial)(y, alpha, x)


def add_scaled(out, x, alpha, y):
    """out = x + alpha * y.  out, x, y: (n,) of one float dtype; threads for large n."""
    check_floats("add_scaled", "out, x and y", out, x, y)
    check_add_scaled.py_func(out.shape, x.shape, y.shape)
    (add_scaled_parallel if use_threads(out.shape[0]) else add_scaled_serial)(out, x, alpha, y)


#: Elements per chunk of sum_of_squares: chunk sums are added in order, so
#: the result does not depend on the thread count.
SUM_CHUNK = 65536


@njit(cache=True, fastmath={"reassoc", "contract"})
def _sum_of_squares_range(x, lo, hi):
    """sum(x[lo:hi]**2) in float64; reassociation lets the sum vectorize."""
    total = 0.0
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = np.float64(x[i])
        total += v * v
    return total


@njit(cache=True)
def _sum_of_squares_serial(partial, x):
    for k in range(partial.shape[0]):
        partial[k] = _sum_of_squares_range(x, k * SUM_CHUNK, min((k + 1) * SUM_CHUNK, x.shape[0]))


@njit(cache=True, parallel=True)
def _sum_of_squares_parallel(partial, x):
    for k in prange(partial.shape[0]):
        partial[k] = _sum_of_squares_range(x, k * SUM_CHUNK, min((k + 1) * SUM_CHUNK, x.shape[0]))


def sum_of_squares(x):
    """sum(x**2) in float64.  x: (n,) float; the same bits for any thread count."""
    check_floats("sum_of_squares", "x", x)
    partial = np.empty(-(-x.shape[0] // SUM_CHUNK))
    (_sum_of_squares_parallel if use_threads(x.shape[0]) else _sum_of_squares_serial)(partial, x)
    return float(partial.sum())
