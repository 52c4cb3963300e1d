"""How many rows a classifier gets right (twin of fastnp.kernels.cpu.accuracy).

Launch: one thread per row, grid-stride; per-thread counts reduced per block
in shared memory, then the per-block counts summed in one block (_launch).
Only the count comes back to the host.
"""
import functools

from numba import cuda, float64

from .._contracts import check_count_correct, check_floats, check_targets
from ..cpu.accuracy import row_argmax as cpu_row_argmax
from ._launch import block_reducer, grid_1d, scalar_result, shuffle_enabled


#: np.argmax(x[i]) for one row: the CPU twin's function, compiled for the device.
row_argmax = cuda.jit(device=True)(cpu_row_argmax.py_func)


@cuda.jit(device=True)
def target_class(targets, i):
    """As the CPU twin's: targets[i] for (N,) labels, row_argmax for (N, C) rows."""
    if targets.ndim == 1:
        return targets[i]
    return row_argmax(targets, i)


@functools.lru_cache(maxsize=None)
def _count_correct_partial(threads, shuffle):
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(partial, scores, targets):
        buf = cuda.shared.array(threads, float64)
        correct = 0.0
        for i in range(cuda.grid(1), scores.shape[0], cuda.gridsize(1)):
            if row_argmax(scores, i) == target_class(targets, i):
                correct += 1.0
        correct = block_sum(buf, correct)
        if cuda.threadIdx.x == 0:
            partial[cuda.blockIdx.x] = correct

    return kernel


def count_correct(scores, targets):
    """Rows where argmax(scores[i]) is the target class, argmax as np.argmax picks it.

    scores: (N, C) device array; targets: (N, C) one-hot rows or (N,) integer
    labels.  Returns an int.
    """
    check_floats("count_correct", "scores", scores)
    check_targets("count_correct", "targets", targets, scores)
    check_count_correct.py_func(scores.shape, targets.shape)
    blocks, threads = grid_1d(scores.shape[0])
    kernel = _count_correct_partial(threads, shuffle_enabled(threads))
    return int(scalar_result(lambda partial: kernel[blocks, threads](partial, scores, targets), blocks))
