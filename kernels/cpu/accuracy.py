"""How many rows a classifier gets right."""
from numba import njit

from .._contracts import check_count_correct, check_floats, check_targets


@njit(cache=True)
def row_argmax(x, i):
    """np.argmax(x[i]): the first maximum, or the first NaN if the row has one.

    The CUDA twin compiles this same Python function as a device function.
    """
    best = 0
    for c in range(1, x.shape[1]):
        v, m = x[i, c], x[i, best]
        if v > m or (v != v and m == m):
            best = c
    return best


@njit(cache=True)
def target_class(targets, i):
    """The class of row i: targets[i] for (N,) labels, np.argmax(targets[i]) for (N, C) rows."""
    if targets.ndim == 1:
        return targets[i]
    return row_argmax(targets, i)


@njit(cache=True)
def count_correct_compiled(scores, targets):
    check_count_correct(scores.shape, targets.shape)
    correct = 0
    for i in range(scores.shape[0]):
        correct += row_argmax(scores, i) == target_class(targets, i)
    return correct


def count_correct(scores, targets):
    """Rows where argmax(scores[i]) is the target class, argmax as np.argmax picks it.

    scores: (N, C) float; targets: (N, C) one-hot rows of scores' dtype or
    (N,) integer labels.  Returns an int.
    """
    check_floats("count_correct", "scores", scores)
    check_targets("count_correct", "targets", targets, scores)
    return count_correct_compiled(scores, targets)
