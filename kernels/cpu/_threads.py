"""When to use threads, and how to split rows between them."""
import numba
from numba import njit

from fastnp.kernels import config


def use_threads(work):
    """True when `work` scalar operations are worth a parallel launch."""
    return work >= config.PARALLEL_MIN_WORK and numba.get_num_threads() > 1


@njit(cache=True)
def chunk_bounds(n, n_chunks, k):
    """Rows [lo, hi) of chunk k when n rows are cut into n_chunks near-equal chunks."""
    return (n * k) // n_chunks, (n * (k + 1)) // n_chunks
