"""Cross-entropy of probabilities against targets (twin of fastnp.kernels.cpu.cross_entropy)."""
import functools
import math

from numba import cuda, float64

from .._contracts import check_cross_entropy, check_floats
from ._launch import block_reducer, grid_1d, scalar_result, shuffle_enabled

#: As in the CPU twin: added to every probability before the log.
LOG_GUARD = 1e-9


@functools.lru_cache(maxsize=None)
def _cross_entropy_partial(threads, shuffle):
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(partial, prob, target):
        buf = cuda.shared.array(threads, float64)
        N, C = prob.shape
        total = 0.0
        # A flat grid-stride walk over all N * C elements: the sum has no row structure.
        for k in range(cuda.grid(1), N * C, cuda.gridsize(1)):
            i, c = k // C, k % C
            p, y = prob[i, c], target[i, c]
            if y != 0.0:
                total -= y * math.log(p + LOG_GUARD)
            elif p != p:
                total += p  # a NaN probability makes the result NaN, as the formula would
        total = block_sum(buf, total)
        if cuda.threadIdx.x == 0:
            partial[cuda.blockIdx.x] = total

    return kernel


def cross_entropy(prob, target):
    """-sum(target * log(prob + 1e-9)) / N as a float, accumulated in float64.

    prob, target: (N, C) device arrays of one float dtype.  Per-thread sums,
    a block reduction, then the per-block sums in a fixed order.
    """
    check_floats("cross_entropy", "prob and target", prob, target)
    check_cross_entropy.py_func(prob.shape, target.shape)
    N, C = prob.shape
    blocks, threads = grid_1d(N * C)
    kernel = _cross_entropy_partial(threads, shuffle_enabled(threads))
    return scalar_result(lambda partial: kernel[blocks, threads](partial, prob, target), blocks) / N
