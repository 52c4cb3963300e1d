"""Cross-entropy of probabilities against targets, the course's definition."""
from numba import njit

import numpy as np

from .._contracts import check_cross_entropy, check_floats

#: Added to every probability before the log, as the course does, so a
#: probability of exactly 0 costs -log(1e-9) = 20.72 instead of infinity.
LOG_GUARD = 1e-9


@njit(cache=True)
def cross_entropy_compiled(prob, target):
    check_cross_entropy(prob.shape, target.shape)
    N, C = prob.shape
    total = 0.0
    for i in range(N):
        for c in range(C):
            p = prob[i, c]
            if target[i, c] != 0.0:
                total -= target[i, c] * np.log(p + LOG_GUARD)
            elif p != p:
                total += p
    return total / N


def cross_entropy(prob, target):
    """-sum(target * log(prob + 1e-9)) / N, accumulated in float64.

    prob, target: (N, C), same float dtype.  Entries with target 0 add
    nothing (their log is never needed) unless prob is NaN, which makes the
    result NaN as the textbook formula would.
    """
    check_floats("cross_entropy", "prob and target", prob, target)
    return cross_entropy_compiled(prob, target)
