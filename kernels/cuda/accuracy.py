"""How many rows a classifier gets right (twin of fastnp.kernels.cpu.accuracy).

Launch: one thread per row, grid-stride; per-thread counts reduced per block
in shared memory, then the per-block counts summed in one block (_launch).
Only the count comes back to the host.
"""
import functools

from numba import cuda, float64

from ..cpu.accuracy import row_argmax as cpu_row_argmax
from ._launch import block_reducer, grid_1d, scalar_result, shuffle_enabled


#: np.argmax(x[i]) for one row: the CPU twin's function, compiled for the device.
row_argmax = cuda.jit(device=True)(cpu_row_argmax.py_func)


@functools.lru_cache(maxsize=None)
def _count_correct_partial(threads, shuffle):
    block_sum = block_reducer(threads, shuffle, False)

    @cuda.jit
    def kernel(partial, scores, targets):
        buf = cuda.shared.array(threads, float64)
        correct = 0.0
        for i in range(cuda.grid(1), scores.shape[0], cuda.gridsize(1)):
            if row_argmax(scores, i) == row_argmax(targets, i):
                correct += 1.0
        correct = block_sum(buf, correct)
        if cuda.threadIdx.x == 0:
            partial[cuda.blockIdx.x] = correct

    return kernel


def count_correct(scores, targets):
    """Rows where argmax(scores[i]) == argmax(targets[i]), as np.argmax picks them.

    scores, targets: (N, C) device arrays (targets one-hot).  Returns an int.
    """
    blocks, threads = grid_1d(scores.shape[0])
    kernel = _count_correct_partial(threads, shuffle_enabled(threads))
    return int(scalar_result(lambda partial: kernel[blocks, threads](partial, scores, targets), blocks))
