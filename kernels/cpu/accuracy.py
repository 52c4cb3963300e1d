"""How many rows a classifier gets right."""
from numba import njit


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
def count_correct(scores, targets):
    """Rows where argmax(scores[i]) == argmax(targets[i]), as np.argmax picks them.

    scores, targets: (N, C) float (targets one-hot).  Returns an int.
    """
    correct = 0
    for i in range(scores.shape[0]):
        correct += row_argmax(scores, i) == row_argmax(targets, i)
    return correct
