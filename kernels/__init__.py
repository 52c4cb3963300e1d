"""fastnp's compiled kernels, installed as ``fastnp.kernels``.

Families:
    fastnp.kernels.cpu    numba ``@njit`` kernels
    fastnp.kernels.cuda   numba-cuda ``@cuda.jit`` twins, same names and
                          signatures, on device arrays (needs numba-cuda;
                          imported only on use)

Kernel convention (after llm.c): outputs first, then inputs, then scalars.
Kernels never allocate their outputs and never write to their inputs; the
layers in ``fastnp`` check and convert arguments and own the buffers.
Kernels take float32 or float64 arrays of one dtype; each public kernel
checks its arguments' dtypes (TypeError) and that their shapes fit
together, and its integer arguments' ranges (ValueError), before any work
(_contracts), since its loops index without bounds checks, and that the
arrays it needs C-contiguous are (ValueError; _contracts says which).

Importing this package makes numba's on-disk cache fail safe: a truncated or
corrupt cache file is recompiled over instead of raising, and processes
saving into one cache at once take turns (_numba_cache).
"""

from ._numba_cache import harden_numba_cache

harden_numba_cache()
