"""A valid call of every public kernel, for the argument-check tests of both
families (tests/test_kernel_arguments.py, tests/gpu/test_kernel_arguments.py).

Sizes are all different (N 6 rows, K 5 inputs, M 4 outputs, C 3 classes,
H 7 hidden units), so that a check comparing the wrong dimensions fails.
"""
import numpy as np
import pytest

N, K, M, C, H = 6, 5, 4, 3, 7


def _f(*shape):
    return np.full(shape, 0.5)


def _labels(n=N, classes=C):
    return np.arange(n) % classes


def _one_hot(n=N, classes=C):
    return np.eye(classes)[_labels(n, classes)]


def _records(iterations, record_every, D=K, classes=C):
    n = -(-iterations // record_every) if record_every > 0 else 0
    return np.empty((n, D, classes))


#: name -> (a function giving a valid argument list, the positions of its
#: integer arguments (bad values are tried there too), the dimensions that
#: are free, as "position.axis": the length of the *_to kernels' loss
#: arrays and of J_his (the number of updates), the rows that column_sums
#: adds, the classes of scores against labels).
CASES = {
    "affine_forward": (lambda: [_f(N, M), _f(N, K), _f(K, M), _f(M)], (), ()),
    "affine_relu_forward": (lambda: [_f(N, M), np.zeros((N, M), np.bool_), _f(N, K), _f(K, M), _f(M)], (), ()),
    "affine_backward_input": (lambda: [_f(N, K), _f(N, M), _f(K, M)], (), ()),
    "affine_relu_backward_input": (lambda: [_f(N, K), _f(N, M), _f(K, M), np.zeros((N, K), np.bool_)], (), ()),
    "affine_backward_params": (lambda: [_f(K, M), _f(M), _f(N, M), _f(N, K)], (), ()),
    "column_sums": (lambda: [_f(M), _f(N, M)], (), ("1.0",)),
    "add_scaled": (lambda: [_f(N), _f(N), 0.5, _f(N)], (), ()),
    "axpy": (lambda: [_f(N), 0.5, _f(N)], (), ()),
    "sum_of_squares": (lambda: [_f(N)], (), ("0.0",)),  # one array: nothing to misfit
    "count_correct": (lambda: [_f(N, C), _labels()], (), ("0.1",)),
    "count_correct/one-hot": (lambda: [_f(N, C), _one_hot()], (), ()),
    "cross_entropy": (lambda: [_f(N, C), _one_hot()], (), ()),
    "relu_forward": (lambda: [_f(N), np.zeros(N, np.bool_), _f(N)], (), ()),
    "relu_backward": (lambda: [_f(N), _f(N), np.zeros(N, np.bool_)], (), ()),
    "sigmoid_forward": (lambda: [_f(N), _f(N)], (), ()),
    "sigmoid_backward": (lambda: [_f(N), _f(N), _f(N)], (), ()),
    "softmax_rows": (lambda: [_f(N, C), _f(N, C)], (), ()),
    "softmax_cross_entropy": (lambda: [_f(N, C), _f(N, C), _labels()], (), ()),
    "softmax_cross_entropy/one-hot": (lambda: [_f(N, C), _f(N, C), _one_hot()], (), ()),
    "softmax_cross_entropy_loss": (lambda: [_f(N, C), _labels()], (), ("0.1",)),
    "softmax_cross_entropy_to": (lambda: [np.zeros(2), 1, _f(N, C), _f(N, C), _one_hot()], (1,), ("0.0",)),
    "softmax_cross_entropy_loss_to": (lambda: [np.zeros(2), 1, _f(N, C), _labels()], (1,), ("0.0", "2.1")),
    "softmax_cross_entropy_rows": (lambda: [_f(N, C), _f(N, C), _one_hot(), N, 1, N], (4, 5), ()),
    "batch_gradient_descent": (lambda: [_f(K, C), _f(C), np.empty(7), _records(7, 3), _f(N, K), _one_hot(),
                                        0.1, 3], (7,), ("2.0",)),
    "stochastic_gradient_descent": (lambda: [_f(K, C), _f(C), np.empty(7), _records(7, 2), _f(N, K),
                                             _one_hot(), 0.1, 2, 2, 0], (7, 8), ("2.0",)),
    "two_layer_numerical_gradient": (lambda: [_f(K, H), _f(H), _f(H, C), _f(C), _f(N, K), _one_hot(),
                                              _f(K, H), _f(H), _f(H, C), _f(C), 0.1, 1e-4], (), ()),
}


#: The positions of the float64 loss outputs (J_his, loss): float64 whatever
#: the float dtype of the work.
LOSSES = {
    "softmax_cross_entropy_to": (0,),
    "softmax_cross_entropy_loss_to": (0,),
    "batch_gradient_descent": (2,),
    "stochastic_gradient_descent": (2,),
}


#: The positions of the arrays each kernel needs C-contiguous (README, "The
#: kernels"); the others may be F-ordered or strided.
C_CONTIGUOUS = {
    "affine_forward": {0},
    "affine_relu_forward": {0},
    "affine_backward_input": {0},
    "affine_relu_backward_input": {0},
    "affine_backward_params": {0},
    "softmax_rows": {0, 1},
    "softmax_cross_entropy": {0, 1, 2},
    "softmax_cross_entropy_loss": {0, 1},
    "softmax_cross_entropy_to": {2, 3, 4},
    "softmax_cross_entropy_loss_to": {2, 3},
    "softmax_cross_entropy_rows": {0, 1, 2},
    "batch_gradient_descent": {0, 1, 2, 4, 5},  # W_his (3) may be any view
    "stochastic_gradient_descent": {0, 1, 2, 4, 5},
    "two_layer_numerical_gradient": set(range(10)),
}


def kernel_name(case):
    return case.split("/")[0]


def wrong_shapes(args, free=()):
    """(position, argument list) pairs: each dimension of each array argument
    in turn (but the `free` ones, "position.axis") one longer than the call allows."""
    for i, a in enumerate(args):
        if not isinstance(a, np.ndarray):
            continue
        for axis in range(a.ndim):
            if f"{i}.{axis}" in free:
                continue
            shape = list(a.shape)
            shape[axis] += 1
            bad = list(args)
            bad[i] = np.zeros(shape, a.dtype)
            yield f"{i}.{axis}", bad


def wrong_integers(args, positions):
    """(position, argument list) pairs: each integer argument at values outside its range."""
    for i in positions:
        for value in (-1, 10**6):
            bad = list(args)
            bad[i] = value
            yield f"{i}={value}", bad


def wrong_dtypes(case, args):
    """(position:dtype, argument list) pairs: each array argument in turn of a
    dtype the call does not allow.  In the valid calls float64 arrays are
    values (or float64 losses), bool arrays masks, integer arrays labels."""
    losses = LOSSES.get(case, ())
    values = [i for i, a in enumerate(args)
              if isinstance(a, np.ndarray) and a.dtype == np.float64 and i not in losses]
    for i, a in enumerate(args):
        if not isinstance(a, np.ndarray):
            continue
        if a.dtype == np.float64:
            # float32 is wrong for a loss, or beside another float64 value
            bad_dtypes = [np.int64] + ([np.float32] if i in losses or len(values) > 1 else [])
        elif a.dtype == np.bool_:
            bad_dtypes = [np.int8, np.float64]
        else:
            bad_dtypes = [np.float64]
        for dtype in bad_dtypes:
            bad = list(args)
            bad[i] = np.zeros(a.shape, dtype)
            yield f"{i}:{np.dtype(dtype).name}", bad


def byte_swapped(args):
    """(position, argument list) pairs: each array argument in turn in the other byte order."""
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype.itemsize > 1:
            bad = list(args)
            bad[i] = a.astype(a.dtype.newbyteorder("S"))
            yield f"{i}:{bad[i].dtype.str}", bad


def byte_swapped_calls():
    """pytest params (case, argument list) of every call above with one argument
    in the other byte order (numba compiles for the machine's only)."""
    return [pytest.param(case, args, id=f"{case}-{where}")
            for case, (build, _, _) in CASES.items()
            for where, args in byte_swapped(build())]


def mistyped_calls():
    """pytest params (case, argument list) of every call above with one argument of a wrong dtype."""
    return [pytest.param(case, args, id=f"{case}-{where}")
            for case, (build, _, _) in CASES.items()
            for where, args in wrong_dtypes(case, build())]


def misfit_calls():
    """pytest params (case, argument list) of every wrong call above, named case-where."""
    return [pytest.param(case, args, id=f"{case}-{where}")
            for case, (build, integers, free) in CASES.items()
            for where, args in list(wrong_shapes(build(), free)) + list(wrong_integers(build(), integers))]


def valued(args):
    """The valid call's arguments with random float values (labels, masks and integers kept)."""
    rng = np.random.default_rng(0)
    return [rng.uniform(0.1, 0.9, a.shape) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
            for a in args]


def relaid_out(args):
    """(position:layout, argument list) pairs: each array argument in turn
    F-ordered (2-D and up) or as a strided view (every other element of a
    larger array), with the same values."""
    for i, a in enumerate(args):
        if not isinstance(a, np.ndarray) or a.ndim == 0 or a.size < 2:
            continue
        layouts = [("strided", np.repeat(a, 2, axis=-1)[..., ::2])]
        if a.ndim > 1:
            layouts.append(("F", np.asfortranarray(a)))
        for layout, other in layouts:
            bad = list(args)
            bad[i] = other
            yield f"{i}:{layout}", bad


def relaid_out_calls():
    """pytest params (case, position:layout) of every call above with one array
    argument in another memory layout (build the arguments with relaid_out)."""
    return [pytest.param(case, where, id=f"{case}-{where}")
            for case, (build, _, _) in CASES.items()
            for where, _ in relaid_out(build())]
