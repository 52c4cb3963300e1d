"""Shared set-up of the asv suites: data, the three implementations, warm-up.

Every suite takes the implementation as a parameter ("fastnp", "numpy" for
the textbook version in fastnp.reference, "torch"), so one graph shows all
three.  JIT compilation and thread-pool start happen in setup(), never in a
timed sample.  A peer that cannot run (torch missing in asv's environments,
where it is not installed) raises NotImplementedError in setup, which asv
reports as skipped.
"""
import numpy as np

IMPLS = ["fastnp", "numpy", "torch"]


def need_torch(impl):
    """The torch module when impl is 'torch' (skipping if it is missing), else None."""
    if impl != "torch":
        return None
    try:
        import torch
    except ImportError:
        raise NotImplementedError("torch is not installed in this environment") from None
    return torch


def onehot(rng, n, c, dtype=np.float64):
    return np.eye(c, dtype=dtype)[rng.integers(0, c, n)]


def warm(fn, calls=2):
    for _ in range(calls):
        fn()
    return fn
