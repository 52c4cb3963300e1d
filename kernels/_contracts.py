"""The argument contract of every public kernel: the dtypes and the shapes
its arguments must have together, checked before any work.

Kernels index without bounds checks (numba's default, and CUDA's), so an
output shorter than its input would be written past its end: memory
corruption, not an error.  Each shape check here raises ValueError naming
the kernel and the shapes it expects.  The shape checks take shapes
(tuples), not arrays, so that one definition serves both families: the CPU
kernels call them compiled (a few integer comparisons), the CPU dispatchers
written in Python and the CUDA launchers call their plain-Python form,
``.py_func`` (so a check calls no other compiled function: the simulator's
device arrays have shapes that compiled code does not take).
Messages are constants: building strings in compiled code would add seconds
to every kernel's compilation.  Targets t fit scores x: (N, C) when t has
x's shape or is (N,) labels, t == x[:1].

The dtype checks (check_floats, check_mask, check_targets, check_losses)
are plain Python, called by every public kernel of both families before it
runs compiled code: compiled code would round floats into an integer output
without a word, or fail with numba's typing error for mixed dtypes.  They
raise TypeError naming the kernel, the arguments and the dtypes given.

Memory layout (check_c_contiguous, ValueError; both families check the
same arrays): outputs that numba's np.dot writes must be C-contiguous
(numba stops with a bare AssertionError otherwise), and so must every
array of the row kernels (softmax, the fused loss: the CUDA twins gave
wrong rows for an F-ordered output) and of the long loops (gradient
descent, the numerical gradient; W_his excepted), which would otherwise
fail numba's typing or compile a specialization for each layout, tens of
seconds for the loops.  The other arrays may be F-ordered or strided views.
"""
import numpy as np
from numba import njit

FLOAT_DTYPES = frozenset((np.dtype(np.float32), np.dtype(np.float64)))  # native byte order only
BOOL = np.dtype(np.bool_)
FLOAT64 = np.dtype(np.float64)
INTEGER_DTYPES = frozenset(map(np.dtype, np.typecodes["AllInteger"]))  # native byte order only


def dtype_of(a):
    """a's numpy dtype; for a __cuda_array_interface__ object whose dtype is
    not numpy's (a torch tensor), the one its interface gives; else a.dtype
    as it is (it then fits no check, and the message shows it)."""
    if isinstance(a.dtype, np.dtype):
        return a.dtype
    interface = getattr(a, "__cuda_array_interface__", None)
    return np.dtype(interface["typestr"]) if interface else a.dtype


def check_floats(kernel, names, *arrays):
    """The arrays (called `names` in the message) share one dtype, float32 or float64."""
    dtype = arrays[0].dtype
    if dtype in FLOAT_DTYPES:
        for a in arrays:
            if a.dtype is not dtype and a.dtype != dtype:  # `is` first: a dtype compare costs 0.1 us
                break
        else:
            return
    dtypes = [dtype_of(a) for a in arrays]
    if dtypes[0] in FLOAT_DTYPES and all(d == dtypes[0] for d in dtypes):
        return
    got = ", ".join(map(str, dtypes))
    raise TypeError(f"{kernel}: {names} must share one dtype, float32 or float64 (got {got})")


def check_mask(kernel, mask):
    """A ReLU mask is bool."""
    if mask.dtype is not BOOL and dtype_of(mask) != BOOL:
        raise TypeError(f"{kernel}: mask must be bool (got {dtype_of(mask)})")


def check_targets(kernel, name, t, scores):
    """t: (N,) integer labels, or (N, C) rows of the scores' float dtype (all in native byte order)."""
    labels = t.ndim == 1
    if (t.dtype in INTEGER_DTYPES) if labels else (t.dtype == scores.dtype):
        return
    t_dtype, dtype = dtype_of(t), dtype_of(scores)  # slower, and right for torch tensors too
    if (t_dtype not in INTEGER_DTYPES) if labels else (t_dtype != dtype):
        raise TypeError(f"{kernel}: {name} must be (N,) integer labels or (N, C) rows of dtype {dtype} "
                        f"(got {t.ndim}-D {t_dtype})")


def check_c_contiguous(kernel, names, *arrays):
    """The arrays (called `names`, "a, b and c") are C-contiguous."""
    for a in arrays:
        try:
            if a.flags.c_contiguous:  # numpy's flags: the fast path on the CPU
                continue
        except AttributeError:  # a numba device array (its flags are a dict), a torch tensor
            if is_c_contiguous(a):
                continue
        break
    else:
        return
    for name, a in zip(names.replace(" and ", ", ").split(", "), arrays):
        if not is_c_contiguous(a):
            flags = getattr(a, "flags", None)
            layout = "an F-ordered" if flags is not None and flags["F_CONTIGUOUS"] else "a strided"
            raise ValueError(f"{kernel}: {name} must be C-contiguous (got {layout} array)")


def is_c_contiguous(a):
    """numpy and numba device arrays by their flags (numba's are a dict);
    other __cuda_array_interface__ objects (a torch tensor) by their strides."""
    flags = getattr(a, "flags", None)
    if flags is not None:
        return flags["C_CONTIGUOUS"]
    interface = a.__cuda_array_interface__
    strides = interface.get("strides")
    if strides is None:  # the interface's word for C-contiguous
        return True
    step = np.dtype(interface["typestr"]).itemsize
    for n, stride in zip(reversed(interface["shape"]), reversed(strides)):
        if n > 1 and stride != step:
            return False
        step *= n
    return True


def check_losses(kernel, name, losses):
    """Losses are kept in float64 whatever the float dtype of the work."""
    if losses.dtype is not FLOAT64 and dtype_of(losses) != FLOAT64:
        raise TypeError(f"{kernel}: {name} must be float64 (got {dtype_of(losses)})")


def check_fused_loss_dtypes(kernel, x, t, dx=None, loss=None):
    """The softmax_cross_entropy kernels' dtypes: scores x (and gradient dx)
    of one float dtype, targets t (labels or rows), float64 losses."""
    dtype = x.dtype  # the common case in one test first: this is on the 100-row OutputLayer's 13 us path
    if (dtype in FLOAT_DTYPES and (dx is None or dx.dtype is dtype) and (loss is None or loss.dtype is FLOAT64)
            and (t.dtype is dtype if t.ndim == 2 else t.dtype in INTEGER_DTYPES)):
        return
    if dx is None:
        check_floats(kernel, "x", x)
    else:
        check_floats(kernel, "dx and x", dx, x)
    check_targets(kernel, "t", t, x)
    if loss is not None:
        check_losses(kernel, "loss", loss)


def check_gradient_descent_dtypes(kernel, W, b, J_his, W_his, X, Y):
    """batch_gradient_descent's and stochastic_gradient_descent's dtypes."""
    check_floats(kernel, "W, b, W_his, X and Y", W, b, W_his, X, Y)
    check_losses(kernel, "J_his", J_his)


@njit(cache=True)
def check_affine_forward(out, x, W, b):
    N, K = x
    M = W[1]
    if W[0] != K or out != (N, M) or b != (M,):
        raise ValueError("affine_forward: shapes must be out (N, M), x (N, K), W (K, M), b (M,)")


@njit(cache=True)
def check_affine_relu_forward(out, mask, x, W, b):
    N, K = x
    M = W[1]
    if W[0] != K or out != (N, M) or mask != (N, M) or b != (M,):
        raise ValueError("affine_relu_forward: shapes must be out (N, M), mask (N, M), x (N, K), W (K, M), b (M,)")


@njit(cache=True)
def check_affine_backward_input(dx, dout, W):
    N, M = dout
    K = W[0]
    if W[1] != M or dx != (N, K):
        raise ValueError("affine_backward_input: shapes must be dx (N, K), dout (N, M), W (K, M)")


@njit(cache=True)
def check_affine_relu_backward_input(dx, dout, W, mask):
    N, M = dout
    K = W[0]
    if W[1] != M or dx != (N, K) or mask != (N, K):
        raise ValueError("affine_relu_backward_input: shapes must be dx (N, K), dout (N, M), W (K, M), mask (N, K)")


@njit(cache=True)
def check_affine_backward_params(dW, db, dout, x):
    N, M = dout
    K = x[1]
    if x[0] != N or dW != (K, M) or db != (M,):
        raise ValueError("affine_backward_params: shapes must be dW (K, M), db (M,), dout (N, M), x (N, K)")


@njit(cache=True)
def check_column_sums(out, x):
    if out != (x[1],):
        raise ValueError("column_sums: shapes must be out (M,), x (N, M)")


@njit(cache=True)
def check_add_scaled(out, x, y):
    if x != out or y != out:
        raise ValueError("add_scaled: out, x and y must have one shape (n,)")


@njit(cache=True)
def check_axpy(y, x):
    if x != y:
        raise ValueError("axpy: y and x must have one shape (n,)")


@njit(cache=True)
def check_count_correct(scores, targets):
    if not (targets == scores[:1] or targets == scores):
        raise ValueError("count_correct: shapes must be scores (N, C), targets (N, C) or (N,)")


@njit(cache=True)
def check_cross_entropy(prob, target):
    if target != prob:
        raise ValueError("cross_entropy: prob and target must have one shape (N, C)")


@njit(cache=True)
def check_relu_forward(out, mask, x):
    if out != x or mask != x:
        raise ValueError("relu_forward: out, mask and x must have one shape (n,)")


@njit(cache=True)
def check_relu_backward(dx, dout, mask):
    if dout != dx or mask != dx:
        raise ValueError("relu_backward: dx, dout and mask must have one shape (n,)")


@njit(cache=True)
def check_sigmoid_forward(out, x):
    if out != x:
        raise ValueError("sigmoid_forward: out and x must have one shape (n,)")


@njit(cache=True)
def check_sigmoid_backward(dx, dout, out):
    if dout != dx or out != dx:
        raise ValueError("sigmoid_backward: dx, dout and out must have one shape (n,)")


@njit(cache=True)
def check_softmax_rows(out, x):
    if out != x:
        raise ValueError("softmax_rows: out and x must have one shape (N, C)")


@njit(cache=True)
def check_softmax_cross_entropy(dx, x, t):
    if dx != x or not (t == x[:1] or t == x):
        raise ValueError("softmax_cross_entropy: shapes must be dx (N, C), x (N, C), t (N, C) or (N,)")


@njit(cache=True)
def check_softmax_cross_entropy_loss(x, t):
    if not (t == x[:1] or t == x):
        raise ValueError("softmax_cross_entropy_loss: shapes must be x (N, C), t (N, C) or (N,)")


@njit(cache=True)
def check_softmax_cross_entropy_to(loss, k, dx, x, t):
    if dx != x or not (t == x[:1] or t == x):
        raise ValueError("softmax_cross_entropy_to: shapes must be dx (N, C), x (N, C), t (N, C) or (N,)")
    if not 0 <= k < loss[0]:
        raise ValueError("softmax_cross_entropy_to: k must be in [0, len(loss))")


@njit(cache=True)
def check_softmax_cross_entropy_loss_to(loss, k, x, t):
    if not (t == x[:1] or t == x):
        raise ValueError("softmax_cross_entropy_loss_to: shapes must be x (N, C), t (N, C) or (N,)")
    if not 0 <= k < loss[0]:
        raise ValueError("softmax_cross_entropy_loss_to: k must be in [0, len(loss))")


@njit(cache=True)
def check_softmax_cross_entropy_rows(dx, x, t, lo, hi):
    if dx != x or not (t == x[:1] or t == x):
        raise ValueError("softmax_cross_entropy_rows: shapes must be dx (N, C), x (N, C), t (N, C) or (N,)")
    if not 0 <= lo <= hi <= x[0]:
        raise ValueError("softmax_cross_entropy_rows: rows must have 0 <= lo <= hi <= N")


@njit(cache=True)
def check_batch_gradient_descent(W, b, J_his, W_his, X, Y, record_every):
    N, D = X
    C = W[1]
    n_records = (J_his[0] + record_every - 1) // record_every if record_every > 0 else 0
    if not (W[0] == D and b == (C,) and Y == (N, C) and record_every >= 0 and W_his == (n_records, D, C)):
        raise ValueError("batch_gradient_descent: shapes must be W (D, C), b (C,), J_his (iterations,), "
                         "W_his (ceil(iterations / record_every), D, C) (0 records if record_every is 0), "
                         "X (N, D), Y (N, C)")


@njit(cache=True)
def check_stochastic_gradient_descent(W, b, J_his, W_his, X, Y, mini_batch, record_every):
    N, D = X
    C = W[1]
    n_records = (J_his[0] + record_every - 1) // record_every if record_every > 0 else 0
    if not (W[0] == D and b == (C,) and Y == (N, C) and record_every >= 0 and W_his == (n_records, D, C)):
        raise ValueError("stochastic_gradient_descent: shapes must be W (D, C), b (C,), J_his (iterations,), "
                         "W_his (ceil(iterations / record_every), D, C) (0 records if record_every is 0), "
                         "X (N, D), Y (N, C)")
    if not 1 <= mini_batch <= N:
        raise ValueError("stochastic_gradient_descent: mini_batch must be in [1, N]")


@njit(cache=True)
def check_two_layer_numerical_gradient(gW1, gb1, gW2, gb2, x, t, W1, b1, W2, b2):
    N, D = x
    H, C = W2
    if (W1 != (D, H) or b1 != (H,) or b2 != (C,) or t != (N, C) or gW1 != W1 or gb1 != b1 or gW2 != W2
            or gb2 != b2):
        raise ValueError("two_layer_numerical_gradient: shapes must be gW1 and W1 (D, H), gb1 and b1 (H,), "
                         "gW2 and W2 (H, C), gb2 and b2 (C,), x (N, D), t (N, C)")
