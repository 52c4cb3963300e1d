"""In-place scaled additions and the L2 sum used by the training code."""
from numba import njit


@njit(cache=True)
def axpy(y, alpha, x):
    """y += alpha * x, in place.  y, x: (n,) of one float dtype."""
    for i in range(y.shape[0]):
        y[i] += alpha * x[i]


@njit(cache=True)
def add_scaled(out, x, alpha, y):
    """out = x + alpha * y.  out, x, y: (n,) of one float dtype."""
    for i in range(out.shape[0]):
        out[i] = x[i] + alpha * y[i]


@njit(cache=True)
def sum_of_squares(x):
    """sum(x**2) in float64.  x: (n,) float."""
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * x[i]
    return total
