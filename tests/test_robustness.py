"""Edge values, state, persistence, concurrency and memory: fastnp under hostile input."""
import ast
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import naive
import fastnp
from fastnp.kernels.cpu import softmax_cross_entropy, softmax_rows


def test_huge_logits_stay_finite_and_rows_sum_to_one():
    x = np.array([[1e300, -1e300, 0.0], [-1e300, -1e300, -1e300], [5e299, 1e300, 1e300]])
    p = fastnp.softmax(x)
    assert np.isfinite(p).all()
    assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    assert_array_equal(p[0], [1.0, 0.0, 0.0])
    layer = fastnp.OutputLayer()
    loss = layer.forward(x, [1, 0, 2])
    assert np.isfinite(loss) and np.isfinite(layer.backward()).all()
    assert loss == pytest.approx((-np.log(1e-9) - np.log(1 / 3 + 1e-9) - np.log(0.5 + 1e-9)) / 3)


def test_probability_zero_uses_the_guard_and_sigmoid_saturates_cleanly():
    assert fastnp.cross_entropy_loss([[0.0, 1.0]], [0]) == pytest.approx(-np.log(1e-9))
    sig = fastnp.Sigmoid()
    out = sig.forward(np.array([-1e4, -745.0, 0.0, 745.0, 1e4]))
    assert np.isfinite(out).all()
    assert_allclose(out, naive.sigmoid([-1e4, -745.0, 0.0, 745.0, 1e4]), rtol=1e-14, atol=0)
    assert np.isfinite(sig.backward(np.ones(5))).all()


def test_float32_results_track_float64():
    rng = np.random.default_rng(0)
    x, labels = 4 * rng.standard_normal((200, 10)), rng.integers(0, 10, 200)
    layer64, layer32 = fastnp.OutputLayer(), fastnp.OutputLayer()
    assert layer32.forward(x.astype(np.float32), labels) == pytest.approx(layer64.forward(x, labels), rel=1e-6)
    assert_allclose(layer32.backward(), layer64.backward(), rtol=1e-5, atol=1e-8)


def test_layers_reused_across_batch_sizes():
    rng = np.random.default_rng(1)
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    affine, relu, out = fastnp.Affine(W, b), fastnp.ReLU(), fastnp.OutputLayer()
    for n in (5, 1, 17):
        x, labels = rng.standard_normal((n, 6)), rng.integers(0, 3, n)
        scores = affine.forward(relu.forward(x))
        out.forward(scores, labels)
        dx = relu.backward(affine.backward(out.backward()))
        assert dx.shape == (n, 6) and affine.dW.shape == (6, 3)


def test_two_layer_net_pickles_and_saves(tmp_path):
    rng = np.random.default_rng(2)
    net = fastnp.TwoLayerNet(8, 5, 3, regularization=0.01, weight_init_std=0.5, seed=3)
    x, labels = rng.standard_normal((10, 8)), rng.integers(0, 3, 10)
    net.gradient(x, labels)
    net.update_params(0.1)
    clone = pickle.loads(pickle.dumps(net))
    assert clone.layers["Affine1"].W is clone.params["W1"]  # sharing survives pickling
    assert clone.loss(x, labels) == net.loss(x, labels)
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = fastnp.TwoLayerNet.load(path)
    assert loaded.layers["Affine2"].W is loaded.params["W2"] and loaded.regularization == 0.01
    assert_array_equal(loaded.predict(x), net.predict(x))
    loaded.gradient(x, labels)
    loaded.update_params(0.1)  # still trains in place


def test_load_takes_the_name_given_to_save(tmp_path):
    """np.savez appends ".npz" to a bare name; load() must find that file by the same name."""
    net = fastnp.TwoLayerNet(6, 4, 3, seed=1)
    written = net.save(tmp_path / "net")
    assert written == str(tmp_path / "net.npz") and os.path.exists(written)
    assert net.save(str(tmp_path / "twice.npz")) == str(tmp_path / "twice.npz")
    assert not os.path.exists(tmp_path / "twice.npz.npz")
    for name in (tmp_path / "net", str(tmp_path / "net"), written):
        assert_array_equal(fastnp.TwoLayerNet.load(name).params["W1"], net.params["W1"])
    with open(written, "rb") as f:  # an open file is read as it is
        assert_array_equal(fastnp.TwoLayerNet.load(f).params["b2"], net.params["b2"])
    with pytest.raises(FileNotFoundError):
        fastnp.TwoLayerNet.load(tmp_path / "nothing")


def test_load_refuses_mismatched_or_foreign_files(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, W1=np.ones((8, 5)), b1=np.ones(4), W2=np.ones((5, 3)), b2=np.ones(3), regularization=0.0,
             dtype="float64")
    with pytest.raises(ValueError, match="shapes do not make a two-layer net"):
        fastnp.TwoLayerNet.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.ones(3))
    with pytest.raises(ValueError, match="missing W1"):
        fastnp.TwoLayerNet.load(other)
    for name, content in (("text.npz", b"not an archive"), ("cut.npz", b"PK\x03\x04 cut short")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="not an .npz archive"):
            fastnp.TwoLayerNet.load(tmp_path / name)
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(ValueError, match="one .npy array"):
        fastnp.TwoLayerNet.load(tmp_path / "one.npy")
    good = dict(W1=np.ones((4, 3)), b1=np.zeros(3), W2=np.ones((3, 2)), b2=np.zeros(2), regularization=0.0,
                dtype="float64")
    for change, message in ((dict(W1=np.ones((4, 3), complex)), "W1 must hold real numbers"),
                            (dict(dtype="int32"), "dtype must be float32 or float64"),
                            (dict(regularization=np.nan), "regularization must be finite"),
                            (dict(regularization=[0.1, 0.2]), "regularization must be a real number")):
        np.savez(tmp_path / "odd.npz", **{**good, **change})
        with pytest.raises(ValueError, match=f"is not a saved TwoLayerNet: {message}"):
            fastnp.TwoLayerNet.load(tmp_path / "odd.npz")
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda'"):
        fastnp.TwoLayerNet.load(bad, device="gpu")


def test_load_leaves_the_global_random_state_alone(tmp_path):
    """TwoLayerNet() without a seed draws from np.random, as the textbook does;
    load() must not, or loading a net would change a seeded notebook's draws."""
    path = tmp_path / "net.npz"
    fastnp.TwoLayerNet(6, 4, 3, seed=1).save(path)
    np.random.seed(5)
    expected = np.random.rand(3)
    np.random.seed(5)
    fastnp.TwoLayerNet.load(path)
    assert_array_equal(np.random.rand(3), expected)


def test_kernels_are_safe_to_call_from_several_threads():
    rng = np.random.default_rng(3)
    inputs = [4 * rng.standard_normal((300 + 50 * i, 10)) for i in range(8)]
    targets = [np.eye(10)[rng.integers(0, 10, len(x))] for x in inputs]
    expected = []
    for x, t in zip(inputs, targets):
        dx = np.empty_like(x)
        expected.append((softmax_cross_entropy(dx, x, t), dx))
    results = [None] * len(inputs)

    def work(i):
        for _ in range(20):
            dx, p = np.empty_like(inputs[i]), np.empty_like(inputs[i])
            loss = softmax_cross_entropy(dx, inputs[i], targets[i])
            softmax_rows(p, inputs[i])
        results[i] = (loss, dx)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for (loss, dx), (want_loss, want_dx) in zip(results, expected):
        assert loss == want_loss
        assert_array_equal(dx, want_dx)


MEMORY_SCRIPT = """
import tracemalloc, numpy as np, fastnp
X = np.random.default_rng(0).standard_normal((10000, 3072)); Y = np.eye(10)[np.arange(10000) % 10]
W, b = np.zeros((3072, 10)), np.zeros(10)
fastnp.stochastic_gradient_descent_func(X[:20], Y[:20], W, b, 2, 0.01, 10, 0)
tracemalloc.start()
fastnp.stochastic_gradient_descent_func(X, Y, W, b, 3000, 0.01, 10, 0, record_every=100)
print(tracemalloc.get_traced_memory()[1])
"""


def test_sgd_runs_in_bounded_memory():
    """3000 updates with record_every=100 keep 30 weight copies (7.4 MB), not 3000 (737 MB)."""
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, check=True)
    peak = int(done.stdout.strip().splitlines()[-1])
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"


CACHE_SCRIPT = """
import numpy as np, fastnp
x = np.random.default_rng(0).standard_normal((50, 4))
layer = fastnp.OutputLayer()
loss = layer.forward(x, np.arange(50) % 4)
print(repr(loss), repr(float(layer.backward().sum())), repr(float(fastnp.softmax(x)[0, 0])))
"""


def run_with_cache(cache_dir, n=1):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    procs = [subprocess.Popen([sys.executable, "-c", CACHE_SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    return [out.strip() for out, _ in outs], [err for _, err in outs]


def test_numba_cache_cold_concurrent_readonly_and_corrupt(tmp_path):
    cache = tmp_path / "cache"
    # Four processes compiling into one cold cache at once.
    outs, _ = run_with_cache(cache, n=4)
    assert len(set(outs)) == 1
    assert list(cache.rglob("*.nbi")) and list(cache.rglob("*.nbc"))
    # A cache folder that cannot be created (its parent is a file; even root cannot write there).
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert run_with_cache(blocker / "cache")[0] == outs[:1]
    # Truncated entries and garbled indexes: recompiled, with a warning, then repaired.
    for f in cache.rglob("*.nbc"):
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    for f in list(cache.rglob("*.nbi"))[:3]:
        f.write_bytes(b"garbage")
    out, err = run_with_cache(cache)
    assert out == outs[:1] and "unreadable numba cache" in err[0]
    out, err = run_with_cache(cache)
    assert out == outs[:1] and "unreadable numba cache" not in err[0]


TWO_TYPES_MODULE = """
from numba import njit

@njit(cache=True)
def f(x):
    return 2 * x + 1
"""

# Saves an int64 or a float64 entry of mod.f, with the steps of numba's
# index update put in the order that loses without a lock: both processes
# read the empty index, float64 writes the index, int64 writes it over,
# int64 writes data file 1, float64 writes it over.  A step waits at most 2 s
# for the other process's step (with the lock, that step never comes).
RACING_SAVE_SCRIPT = """
import os, sys, time
import fastnp.kernels
from numba.core import caching
me, other = sys.argv[1], {"float": "int", "int": "float"}[sys.argv[1]]
def done(step):
    open(f"{step}-{me}", "w").close()
def wait(step):
    end = time.time() + 2.0
    while not os.path.exists(f"{step}-{other}") and time.time() < end:
        time.sleep(0.01)
index_file = caching.IndexDataCacheFile
load_index, save_index, save_data = index_file._load_index, index_file._save_index, index_file._save_data
reads = []
def racing_load_index(self):
    index = load_index(self)
    reads.append(1)
    if len(reads) == 2:  # the read inside save (the first was the lookup)
        done("read")
        wait("read")
    return index
def racing_save_index(self, overloads):
    if me == "int":
        wait("index")
    save_index(self, overloads)
    done("index")
def racing_save_data(self, name, data):
    if me == "float":
        wait("data")
    save_data(self, name, data)
    done("data")
index_file._load_index, index_file._save_index, index_file._save_data = (
    racing_load_index, racing_save_index, racing_save_data)
import mod
mod.f(2.5 if me == "float" else 2)
"""

READ_BOTH_SCRIPT = """
import fastnp.kernels, mod
print(repr(mod.f(2)), repr(mod.f(2.5)), sorted(map(str, mod.f.stats.cache_hits)))
"""


def run_in(folder, script, *args):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / "cache"), "PYTHONPATH": str(folder)}
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return out.strip().splitlines()[-1] if out.strip() else "", err


def test_numba_cache_saves_of_two_signatures_at_once_keep_both(tmp_path):
    (tmp_path / "mod.py").write_text(TWO_TYPES_MODULE)
    for proc in [run_in(tmp_path, RACING_SAVE_SCRIPT, kind) for kind in ("float", "int")]:
        finish(proc)
    # numba alone would leave the int64 entry running float64 code (f(2) == 5.0) and lose the float64 one.
    out, err = finish(run_in(tmp_path, READ_BOTH_SCRIPT))
    assert out == "5 6.0 ['(float64,)', '(int64,)']", err


def test_numba_cache_entry_compiled_for_other_types_is_recompiled(tmp_path):
    (tmp_path / "mod.py").write_text(TWO_TYPES_MODULE)
    finish(run_in(tmp_path, READ_BOTH_SCRIPT))
    [index] = (tmp_path / "cache").rglob("*.nbi")
    with open(index, "rb") as f:  # numba's layout: its version, then the pickled (stamp, {key: data file})
        version = pickle.load(f)
        stamp, entries = pickle.loads(f.read())
    (k1, v1), (k2, v2) = entries.items()
    with open(index, "wb") as f:  # cross the entries over, as the race above does
        pickle.dump(version, f)
        f.write(pickle.dumps((stamp, {k1: v2, k2: v1})))
    out, err = finish(run_in(tmp_path, READ_BOTH_SCRIPT))
    assert out == "5 6.0 []" and err.count("compiled for") == 2, err
    out, err = finish(run_in(tmp_path, READ_BOTH_SCRIPT))  # the recompiled entries replaced the crossed ones
    assert out == "5 6.0 ['(float64,)', '(int64,)']" and "compiled for" not in err, err


NUMERIC = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint64", "float16", "float32", "float64", "object"]
SPECIALS = [0.0, -0.0, 1.0, -1.0, 1e308, -1e308, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1e-310]


def layouts(a):
    """The same values as C, Fortran, reversed, strided-view, read-only and
    (for multi-byte numbers) byte-swapped arrays."""
    fortran = np.asfortranarray(a)
    reversed_ = np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    padded = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    padded[:, ::2] = a
    readonly = a.copy()
    readonly.flags.writeable = False
    swapped = [a.astype(a.dtype.newbyteorder("S"))] if a.dtype.itemsize > 1 and a.dtype != object else []
    return [a, fortran, reversed_, padded[:, ::2], readonly] + swapped


def computes_in_float32(dtype):
    """float16 and float32, in either byte order (README, "Input handling")."""
    return dtype.kind == "f" and dtype.itemsize <= 4


def hostile_array(rng, dtype, n, c, specials):
    """(array of `dtype`, its float64 values): random normal or special values."""
    values = rng.choice(SPECIALS, (n, c)) if specials else 10 * rng.standard_normal((n, c))
    with np.errstate(all="ignore"):
        a = values.astype(dtype) if dtype != "object" else values.astype(object)
        return a, a.astype(np.float64)


@settings(deadline=None, max_examples=60)
@given(dtype=st.sampled_from(NUMERIC), n=st.integers(1, 6), c=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       specials=st.booleans())
def test_any_real_dtype_layout_and_value_matches_the_oracle(dtype, n, c, seed, specials):
    a, reference = hostile_array(np.random.default_rng(seed), dtype, n, c, specials)
    for x in layouts(a):
        before = np.array(x, copy=True)
        got = fastnp.softmax(x)
        assert got.dtype == (np.float32 if computes_in_float32(x.dtype) else np.float64)
        with np.errstate(all="ignore"):
            want = naive.softmax(reference)
        assert_allclose(got, want, rtol=1e-13 if got.dtype == np.float64 else 1e-5, atol=1e-300, equal_nan=True)
        relu = fastnp.ReLU()
        out = relu.forward(x)
        assert_array_equal(out, naive.relu(reference).astype(out.dtype))  # NaN stays NaN
        sig = fastnp.Sigmoid().forward(x)
        with np.errstate(all="ignore"):
            assert_allclose(sig, naive.sigmoid(reference), rtol=1e-13 if sig.dtype == np.float64 else 1e-6,
                            atol=1e-300, equal_nan=True)
        assert_array_equal(x.astype(np.float64), before.astype(np.float64))  # never modified (NaN == NaN here)
        assert x.dtype == before.dtype


@pytest.mark.parametrize("bad", [np.ones((2, 2), np.complex128), np.array([["a", "b"]]), np.array([[None, 1]]),
                                 np.array([[{}, 1]], dtype=object)])
def test_non_real_data_raises_type_error(bad):
    for call in (fastnp.softmax, fastnp.ReLU().forward, fastnp.Sigmoid().forward):
        with pytest.raises(TypeError, match="must hold real numbers"):
            call(bad)


ALLOC_SCRIPT = """
import numpy as np
from numba.core.runtime import rtsys
from fastnp.kernels.cpu import batch_gradient_descent, softmax_cross_entropy, stochastic_gradient_descent
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((50, 64)), np.eye(10)[rng.integers(0, 10, 50)]
W, b = np.zeros((64, 10)), np.zeros(10)

def allocations(fn):
    fn()  # compile
    before = rtsys.get_allocation_stats().alloc
    fn()
    return rtsys.get_allocation_stats().alloc - before

counts = []
for its in (10, 1000):
    J, W_his = np.empty(its), np.empty((0, 64, 10))
    counts.append(allocations(lambda: stochastic_gradient_descent(W.copy(), b.copy(), J, W_his, X, Y, 0.1, 7, 0, 1)))
    counts.append(allocations(lambda: batch_gradient_descent(W.copy(), b.copy(), J, W_his, X, Y, 0.1, 0)))
for n in (2000, 200000):
    x, t = rng.standard_normal((n, 10)), np.eye(10)[rng.integers(0, 10, n)]
    dx = np.empty_like(x)
    counts.append(allocations(lambda: softmax_cross_entropy(dx, x, t)))
print(counts)
"""


def test_training_loops_allocate_nothing_per_iteration():
    """numba's allocation count of a call does not grow with the iterations (or rows)."""
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    done = subprocess.run([sys.executable, "-c", ALLOC_SCRIPT], env=env, capture_output=True, text=True, check=True)
    sgd10, bgd10, sgd1000, bgd1000, fused_small, fused_large = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert (sgd10, bgd10) == (sgd1000, bgd1000)
    assert fused_large == fused_small


BOUNDSCHECK_SCRIPT = """
import numpy as np, fastnp
rng = np.random.default_rng(0)
x, labels = rng.standard_normal((7, 5)), rng.integers(0, 5, 7)
fastnp.softmax(x); fastnp.cross_entropy_loss(fastnp.softmax(x), labels)
layer = fastnp.OutputLayer(); layer.forward(x, labels); layer.backward(); layer.backward(2.0)
for l in (fastnp.ReLU(), fastnp.Sigmoid()):
    l.forward(x); l.backward(x)
a = fastnp.Affine(rng.standard_normal((5, 3)), np.zeros(3)); a.forward(x); a.backward(np.ones((7, 3)))
X, Y = rng.standard_normal((13, 9)), rng.integers(0, 3, 13)
for mb in (1, 3, 5, 13):
    fastnp.stochastic_gradient_descent_func(X, Y, np.zeros((9, 3)), np.zeros(3), 20, 0.1, mb, 0, record_every=3)
fastnp.batch_gradient_descent_func(X, Y, np.zeros((9, 3)), np.zeros(3), 40, 0.1, record_every=7)
for scale in (1.0, 300.0):
    net = fastnp.TwoLayerNet(9, 4, 3, regularization=0.1, weight_init_std=1.0, seed=1)
    net.gradient(scale * X, Y); net.update_params(0.1); net.numerical_gradient(scale * X, Y)
# The chunked and threaded paths: 2500 rows (serial chunks), 6000 rows and 210000 weights (threads).
for rows in (2500, 6000):
    big = rng.standard_normal((rows, 10))
    fastnp.softmax(big); layer = fastnp.OutputLayer(); layer.forward(big, rng.integers(0, 10, rows)); layer.backward()
net = fastnp.TwoLayerNet(300, 700, 3, regularization=0.1, seed=2)
net.gradient(rng.standard_normal((4, 300)), [0, 1, 2, 0]); net.update_params(0.1); net.loss(np.ones((1, 300)), [1])
mask = np.array([[0, 2, 1], [255, 0, 1]], np.uint8).view(bool)  # bytes other than 0 and 1: rewritten first
fastnp.kernels.cpu.affine_relu_backward_input(np.empty((2, 3)), np.ones((2, 1)), np.ones((3, 1)), mask)
print("ok")
"""


def test_every_kernel_path_under_boundscheck(tmp_path):
    """Compiled with bounds checking (own cache), every kernel path runs without an IndexError."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", BOUNDSCHECK_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


@settings(deadline=None, max_examples=40)
@given(dtype=st.sampled_from(NUMERIC), n=st.integers(1, 5), c=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       specials=st.booleans())
def test_losses_and_affine_on_any_dtype_layout_and_value(dtype, n, c, seed, specials):
    rng = np.random.default_rng(seed)
    a, ref = hostile_array(rng, dtype, n, c, specials)
    with np.errstate(all="ignore"):
        labels = rng.integers(0, c, n)
        t = np.eye(c)[labels]
        W = rng.standard_normal((c, 3))
        for x in layouts(a):
            in_float32 = computes_in_float32(x.dtype)
            # float32: a loss near 0 is -log(p) for p within ulps of 1, so its error is absolute
            tol = {"rtol": 1e-5 if in_float32 else 1e-12, "atol": 1e-6 if in_float32 else 1e-300, "equal_nan": True}
            prob = naive.softmax(ref)
            assert_allclose(fastnp.cross_entropy_loss(prob, labels), naive.cross_entropy(prob, t), **tol)
            layer = fastnp.OutputLayer()
            assert_allclose(layer.forward(x, labels), naive.cross_entropy(naive.softmax(ref), t), **tol)
            assert_allclose(layer.backward(), (naive.softmax(ref) - t) / n, **tol)
            assert_allclose(fastnp.Affine(W, np.ones(3)).forward(x), ref @ W + 1, **tol)
            assert_allclose(fastnp.linear_pred(x, W, np.ones(3)), ref @ W + 1, **tol)


@pytest.mark.parametrize("shape", [(1, 1), (1, 3000), (3000, 1), (5000, 2), (2, 5000)])
def test_very_wide_and_very_tall(shape):
    rng = np.random.default_rng(sum(shape))
    x = 5 * rng.standard_normal(shape)
    labels = rng.integers(0, shape[1], shape[0])
    assert_allclose(fastnp.softmax(x), naive.softmax(x), rtol=1e-12, atol=1e-300)
    layer = fastnp.OutputLayer()
    t = np.eye(shape[1])[labels]
    assert layer.forward(x, labels) == pytest.approx(naive.cross_entropy(naive.softmax(x), t), rel=1e-12)
    assert_allclose(layer.backward(), (naive.softmax(x) - t) / shape[0], rtol=1e-11, atol=1e-300)
    W1, b1, J, _ = fastnp.batch_gradient_descent_func(x, labels, np.zeros((shape[1], shape[1])), np.zeros(shape[1]),
                                                       3, 0.1, record_every=None)
    assert np.isfinite(W1).all() and np.isfinite(J).all()


def test_target_rows_all_zero_several_ones_and_fractional():
    """Targets weight the log-probabilities, as the docstring says: no normalization, no error."""
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [3.0, 3.0, -2.0]])
    t = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0], [0.3, 0.7, 0.0]])
    layer = fastnp.OutputLayer()
    assert layer.forward(x, t) == pytest.approx(naive.cross_entropy(naive.softmax(x), t), rel=1e-14)
    assert_allclose(layer.backward(), (naive.softmax(x) - t) / 3, rtol=1e-14)
    with pytest.raises(ValueError, match="labels outside"):
        layer.forward(x, [0, 1, -1])


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int64", "float16", "object"])
def test_training_functions_and_net_accept_any_real_dtype(dtype):
    rng = np.random.default_rng(4)
    raw = rng.integers(-3, 4, (12, 6))
    X = raw.astype(dtype) if dtype != "object" else raw.astype(object)
    ref = X.astype(np.float64)
    labels = rng.integers(0, 3, 12)
    Y = np.eye(3)[labels]
    W, b = 0.1 * rng.standard_normal((6, 3)), np.zeros(3)
    rtol = 1e-3 if dtype == "float16" else 1e-12  # float16 computes in float32
    assert fastnp.linear_cost_func(X, labels, W, b) == pytest.approx(naive.linear_cost(ref, Y, W, b), rel=rtol)
    batch = fastnp.batch_gradient_descent_func(X, labels, W, b, 4, 0.1)
    for got, want in zip(batch, naive.batch_gd(ref, Y, W, b, 4, 0.1)):
        assert_allclose(got, want, rtol=rtol, atol=rtol)
    sgd = fastnp.stochastic_gradient_descent_func(X, labels, W, b, 4, 0.1, 12, random_seed=0)  # all rows: batch GD
    assert_allclose(sgd[0], naive.batch_gd(ref, Y, W, b, 4, 0.1)[0], rtol=rtol, atol=rtol)
    net = fastnp.TwoLayerNet(6, 4, 3, weight_init_std=0.5, seed=0)
    assert net.loss(X, labels) == pytest.approx(net.loss(ref, labels), rel=rtol)
    grads, grads_ref = net.gradient(X, labels), net.gradient(ref, labels)
    for key in grads:
        assert_allclose(grads[key], grads_ref[key], rtol=rtol, atol=1e-15)
