"""In-place scaled additions and the L2 sum used by the training code.

The *_serial kernels are plain loops (callable from other kernels); axpy and
add_scaled pick them or their threaded twins by size: over a 3072x1024
weight matrix these passes are memory-bound, and two cores move about 1.8
times the bytes of one.
"""
from numba import njit, prange

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
    (axpy_parallel if use_threads(y.shape[0]) else axpy_serial)(y, alpha, x)


def add_scaled(out, x, alpha, y):
    """out = x + alpha * y.  out, x, y: (n,) of one float dtype; threads for large n."""
    (add_scaled_parallel if use_threads(out.shape[0]) else add_scaled_serial)(out, x, alpha, y)


@njit(cache=True)
def sum_of_squares(x):
    """sum(x**2) in float64.  x: (n,) float."""
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * x[i]
    return total
