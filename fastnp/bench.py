"""`fastnp bench`: fastnp, the textbook numpy version and torch, side by side.

Every case is timed for each implementation in one process, in blocks taken
round-robin, each block after a pause and its own warm-up, as the best of
the blocks' medians (see run_case and fastnp.timing).  The ratios are
textbook / fastnp and torch / fastnp, so above 1 means fastnp is faster.
"""
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

import fastnp
from fastnp import reference
from fastnp.timing import format_seconds, machine_info, median_time, settle

try:
    import torch
except ImportError:  # torch is a test/bench peer, never a requirement
    torch = None


@dataclass
class Case:
    name: str
    impls: dict  # implementation name -> zero-argument callable
    minimum: dict = field(default_factory=dict)  # other implementation -> the least ratio other / fastnp asked
    max_seconds: float = 0.0  # the most one fastnp call may take (0: no such target)
    note: str = ""  # printed after the target, or in its place for a case without one
    flops: float = 0.0  # floating-point operations per call, for GFLOP/s
    repeats: int = 7
    slow_impls: dict = field(default_factory=dict)  # name -> (callable, scale): time one call, multiply
    blas: bool = True  # calls matrix products (each block must wait for the last block's BLAS threads)
    times: dict = field(default_factory=dict)  # name -> the best of its blocks' medians
    block_times: dict = field(default_factory=dict)  # name -> every block's median, in the order taken

    @property
    def target(self):
        """The target as printed, say ">= 3x numpy, >= 2x torch"."""
        parts = [f">= {ratio:g}x {other}" for other, ratio in self.minimum.items()]
        if self.max_seconds:
            parts.append(f"< {self.max_seconds:g} s")
        text = ", ".join(parts)
        return f"{text} ({self.note})" if text and self.note else text or self.note

    def misses(self):
        """What a timed case falls short of its target by, as phrases ([] when
        it meets it).  A ratio to an implementation that was not timed (torch
        not installed) is not checked."""
        fastnp_s = self.times["fastnp"]
        out = [f"{self.times[other] / fastnp_s:.2f}x {other}, target >= {ratio:g}x"
               for other, ratio in self.minimum.items()
               if other in self.times and self.times[other] / fastnp_s < ratio]
        if self.max_seconds and fastnp_s >= self.max_seconds:
            out.append(f"{format_seconds(fastnp_s)}, target < {self.max_seconds:g} s")
        return out

    def verdict(self):
        """'yes' or 'NO' for a timed case with a target, '-' without one."""
        if not self.minimum and not self.max_seconds:
            return "-"
        return "NO" if self.misses() else "yes"


def _onehot(rng, n, c, dtype=np.float64):
    return np.eye(c, dtype=dtype)[rng.integers(0, c, n)]


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


# ---------------------------------------------------------------- the cases

def case_output_layer(n, dtype):
    rng = np.random.default_rng(0)
    x, t = (3 * rng.standard_normal((n, 10))).astype(dtype), _onehot(rng, n, 10, dtype)
    ours, theirs = fastnp.OutputLayer(), reference.OutputLayer()

    def run_fastnp():
        ours.forward(x, t)
        return ours.backward()

    def run_numpy():
        theirs.forward(x, t)
        return theirs.backward()

    impls = {"fastnp": run_fastnp, "numpy": run_numpy}
    if torch is not None:
        tx, tt = _t(x), _t(t)

        def run_torch():  # the same guarded loss and (p - t) / N gradient, no autograd overhead
            p = torch.softmax(tx, 1)
            loss = -(tt * torch.log(p + 1e-9)).sum() / n
            return loss.item(), (p - tt) / n

        impls["torch"] = run_torch
    name = f"OutputLayer fwd+bwd N={n} C=10 {np.dtype(dtype).name}"
    return Case(name, impls, minimum={"numpy": 3, "torch": 2}, blas=False)


def case_affine(input_grad=True, dtype=np.float64):
    """Affine forward + backward at the course's first layer.  input_grad=False
    is that layer as a network uses it (the issue's case): its input is the
    data, so nobody asks for dx.  The textbook Affine always computes dx;
    torch (autograd, with x not requiring grad) skips it too.  With dx, all
    three run the same three BLAS products: that row has no target, it shows
    where the first layer's speed comes from."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 3072)).astype(dtype)
    W, b = (0.01 * rng.standard_normal((3072, 1024))).astype(dtype), np.zeros(1024, dtype)
    dout = rng.standard_normal((100, 1024)).astype(dtype)
    ours, theirs = fastnp.Affine(W, b), reference.Affine(W, b)

    def run_fastnp():
        ours.forward(x)
        return ours.backward(dout, input_grad=input_grad)

    def run_numpy():
        theirs.forward(x)
        return theirs.backward(dout)

    impls = {"fastnp": run_fastnp, "numpy": run_numpy}
    if torch is not None:
        tx, td = _t(x).requires_grad_(input_grad), _t(dout)
        tW, tb = _t(W).requires_grad_(True), _t(b).requires_grad_(True)
        inputs = [tx, tW, tb] if input_grad else [tW, tb]

        def run_torch():
            return torch.autograd.grad(torch.addmm(tb, tx, tW), inputs, td)

        impls["torch"] = run_torch
    if input_grad:
        return Case("Affine fwd+bwd with dx (3 products)", impls, note="none: the same 3 BLAS products",
                    flops=3 * 2 * 100 * 3072 * 1024)
    return Case("Affine fwd+bwd 100x3072 @ 3072x1024, no dx", impls, minimum={"numpy": 1.3, "torch": 1},
                flops=2 * 2 * 100 * 3072 * 1024)


def case_two_layer_step(batch=100):
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((batch, 3072)), _onehot(rng, batch, 10)
    np.random.seed(0)
    ours = fastnp.TwoLayerNet(3072, 1024, 10, regularization=1e-4)
    np.random.seed(0)
    theirs = reference.TwoLayerNet(3072, 1024, 10, regularization=1e-4)

    def step(net):
        def run():
            net.gradient(x, t)
            net.update_params(1e-3)
        return run

    impls = {"fastnp": step(ours), "numpy": step(theirs)}
    if torch is not None:
        params = {k: _t(v.copy()).requires_grad_(True) for k, v in theirs.params.items()}
        tx, tt = _t(x), _t(t)

        def run_torch():
            hidden = torch.relu(torch.addmm(params["b1"], tx, params["W1"]))
            scores = torch.addmm(params["b2"], hidden, params["W2"])
            loss = -(tt * torch.log_softmax(scores, 1)).sum() / batch
            loss = loss + 0.5e-4 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
            grads = torch.autograd.grad(loss, list(params.values()))
            with torch.no_grad():
                for p, g in zip(params.values(), grads):
                    p -= 1e-3 * g

        impls["torch"] = run_torch
    # forward 2 matmuls + backward dW1, dW2, dhidden (no dx of the input layer)
    flops = 2 * batch * (3072 * 1024 * 2 + 1024 * 10 * 3)
    return Case(f"TwoLayerNet step batch {batch} 3072-1024-10", impls, minimum={"numpy": 1.3, "torch": 1},
                flops=flops)


def case_numerical_gradient(hidden, n_images, sliced=None, seed=3):
    """TwoLayerNet(3072, hidden, 10).numerical_gradient on n_images rows.  The
    textbook is timed whole, or with `sliced` on that many elements of W1 and
    scaled up by the element count (for runs that would take hours)."""
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((n_images, 3072)), _onehot(rng, n_images, 10)
    np.random.seed(0)
    ours = fastnp.TwoLayerNet(3072, hidden, 10, regularization=1e-4)
    np.random.seed(0)
    theirs = reference.TwoLayerNet(3072, hidden, 10, regularization=1e-4)
    case = Case(f"numerical_gradient 3072-{hidden}-10, {n_images} images",
                {"fastnp": lambda: ours.numerical_gradient(x, t)}, repeats=5 if hidden == 10 else 1)
    if hidden == 10:
        case.minimum = {"numpy": 1000}
    else:  # the "seconds", against the textbook's hours
        case.max_seconds, case.note = 10, "numpy: hours, from a slice"
    if sliced is None:
        case.slow_impls["numpy"] = (lambda: theirs.numerical_gradient(x, t), 1.0)
    else:
        n_elements = sum(p.size for p in theirs.params.values())
        case.slow_impls["numpy"] = (
            lambda: reference.numerical_gradient(lambda: theirs.loss(x, t), theirs.params["W1"], sliced),
            n_elements / sliced)
    return case


def _cifar_like(rng, n):
    return rng.standard_normal((n, 3072)) * 0.25, _onehot(rng, n, 10)


@functools.lru_cache(maxsize=1)
def _sgd_data():
    """The SGD cases' 10000 rows (245 MB), made once for both cases; no implementation writes to them."""
    return _cifar_like(np.random.default_rng(5), 10000)


def case_sgd(mini_batch, iterations):
    X, Y = _sgd_data()
    W, b = np.zeros((3072, 10)), np.zeros(10)
    args = (X, Y, W, b, iterations, 0.01, mini_batch, 0)
    impls = {
        "fastnp": lambda: fastnp.stochastic_gradient_descent_func(*args, record_every=iterations),
        "numpy": lambda: reference.stochastic_gradient_descent_func(*args, record_every=iterations),
    }
    if torch is not None:
        tX, tY = _t(X), _t(Y)

        def run_torch():
            gen = torch.Generator().manual_seed(0)
            tW, tb = torch.zeros(3072, 10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64)
            for _ in range(iterations):
                idx = torch.randperm(10000, generator=gen)[:mini_batch]
                x, y = tX[idx], tY[idx]
                g = (torch.softmax(torch.addmm(tb, x, tW), 1) - y) / mini_batch
                tW.addmm_(x.T, g, alpha=-0.01)
                tb.sub_(0.01 * g.sum(0))

        impls["torch"] = run_torch
    return Case(f"SGD 10000x3072, {iterations} its, mini_batch {mini_batch}", impls,
                minimum={"numpy": 2.5 if mini_batch > 1 else 6},
                repeats=5, flops=iterations * mini_batch * 3072 * 10 * 4)


def case_batch_gd():
    rng = np.random.default_rng(6)
    X, Y = _cifar_like(rng, 20)
    W, b = np.zeros((3072, 10)), np.zeros(10)
    impls = {
        "fastnp": lambda: fastnp.batch_gradient_descent_func(X, Y, W, b, 100, 0.1),
        "numpy": lambda: reference.batch_gradient_descent_func(X, Y, W, b, 100, 0.1),
    }
    if torch is not None:
        tX, tY = _t(X), _t(Y)

        def run_torch():
            tW, tb = torch.zeros(3072, 10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64)
            W_his = torch.empty(100, 3072, 10, dtype=torch.float64)
            for i in range(100):
                p = torch.softmax(torch.addmm(tb, tX, tW), 1)
                g = (p - tY) / 20
                tW.addmm_(tX.T, g, alpha=-0.1)
                tb.sub_(0.1 * g.sum(0))
                W_his[i] = tW

        impls["torch"] = run_torch
    return Case("batch GD 20x3072, 100 its", impls, minimum={"numpy": 3})


def sgd_steps(quick):
    """Updates in the mini_batch 10 SGD case: the issue's 3000, a third of it with --quick
    (the per-update cost is the same; the full count takes 20-30 s of --quick's minute)."""
    return 1000 if quick else 3000


def case_builders(quick):
    """(warm-up group, zero-argument function that builds the case) for every
    case, in report order.  The groups split the kernels to compile in two
    halves that share little code: the linear classifier and the affine
    products (0), the softmax family and the numerical gradient (1)."""
    builders = [
        (1, lambda: case_numerical_gradient(10, 20, sliced=500 if quick else None)),
        (0, lambda: case_sgd(10, sgd_steps(quick))),
        (0, lambda: case_sgd(1, 1000 if quick else 10000)),  # --quick: a tenth of the epoch
        (0, case_batch_gd),
    ]
    for dtype in (np.float64, np.float32):
        builders += [(1, lambda dtype=dtype: case_output_layer(100, dtype)),
                     (1, lambda dtype=dtype: case_output_layer(100_000, dtype))]
    builders += [(0, case_affine), (0, lambda: case_affine(input_grad=False)), (0, case_two_layer_step)]
    if not quick:
        builders.append((1, lambda: case_numerical_gradient(1024, 100, sliced=20, seed=4)))
    return builders


def all_cases(quick, group=None):
    """The cases, or those of one warm-up group."""
    return [build() for g, build in case_builders(quick) if group in (None, g)]


# ---------------------------------------------------------------- running

def matmul_peak(n=100, k=3072, m=1024):
    """GFLOP/s of x @ W at the Affine shape through numpy's BLAS and through
    scipy's, the one numba's kernels call (two OpenBLAS builds): the best of
    them is the machine's matmul peak there."""
    from scipy.linalg.blas import dgemm

    rng = np.random.default_rng(7)
    x, W = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    products = {"numpy": lambda: x @ W,
                "scipy": lambda: dgemm(1.0, W.T, x.T)}  # (x @ W).T from Fortran-ordered views, no copies
    rates = {}
    for name, product in products.items():
        settle()
        rates[name] = 2 * n * k * m / median_time(product) / 1e9
    return rates


def gather_bound(steps=3000, rows=10):
    """Seconds to read `rows` random rows of a 10000x3072 float64 matrix per
    step for `steps` steps: the memory floor under the SGD case."""
    from fastnp.kernels.cpu.linear_classifier import gather_rows_sum

    X = np.random.default_rng(8).standard_normal((10000, 3072))
    gather_rows_sum(X, 10, rows, 0)
    settle()
    return median_time(lambda: gather_rows_sum(X, steps, rows, 1), repeats=3, min_sample_s=0)


def run_case(case, quick):
    """Times each implementation in blocks taken round-robin, so that a slow
    spell of a shared machine falls on every implementation alike: each
    block settles (the previous library's BLAS threads go to sleep), warms
    up and takes its samples.  The reported time is the best of the blocks'
    medians: another tenant of a shared machine only ever adds time, and a
    slow spell that covers one or two of an implementation's blocks then
    does not decide its ratio.  `--quick` takes one sample per block."""
    samples = 3 if quick else case.repeats
    rounds = min(3, samples)
    per_block = -(-samples // rounds)
    medians = {name: [] for name in case.impls}
    for round_ in range(rounds):
        for name, fn in case.impls.items():
            if case.blas or round_ == 0:
                settle()
            # Only fastnp compiles on its first calls.  Later blocks warm up (wake
            # their thread pools) with one call unless a call lasts long enough
            # that waking them does not count.
            if round_ == 0:
                warmup = 2 if name == "fastnp" else 1
            else:
                warmup = 1 if medians[name][0] < 0.05 else 0
            medians[name].append(median_time(fn, repeats=per_block, min_sample_s=0.01 if quick else 0.05,
                                             warmup=warmup))
    case.block_times = medians
    case.times = {name: min(m) for name, m in medians.items()}
    for name, (fn, scale) in case.slow_impls.items():
        settle()
        start = time.perf_counter()
        fn()
        case.times[name] = (time.perf_counter() - start) * scale
    return case


FIRST_CALL_SCRIPT = """
import time, numpy as np
t0 = time.perf_counter()
import fastnp
t1 = time.perf_counter()
rng = np.random.default_rng(0)
x = rng.standard_normal((20, 30)); t = np.eye(4)[rng.integers(0, 4, 20)]
out = {"import": t1 - t0}
def first(name, fn):
    s = time.perf_counter(); fn(); out[name] = time.perf_counter() - s
first("softmax", lambda: fastnp.softmax(x))
first("OutputLayer fwd+bwd", lambda: (lambda l: (l.forward(x[:, :4], t), l.backward()))(fastnp.OutputLayer()))
first("ReLU fwd+bwd", lambda: (lambda l: (l.forward(x), l.backward(x)))(fastnp.ReLU()))
first("Sigmoid fwd+bwd", lambda: (lambda l: (l.forward(x), l.backward(x)))(fastnp.Sigmoid()))
first("Affine fwd+bwd", lambda: (lambda l: (l.forward(x), l.backward(t)))(fastnp.Affine(np.ones((30, 4)), np.zeros(4))))
net = fastnp.TwoLayerNet(30, 5, 4, seed=0)
first("TwoLayerNet step", lambda: (net.gradient(x, t), net.update_params(0.1)))
first("numerical_gradient", lambda: net.numerical_gradient(x, t))
first("batch GD", lambda: fastnp.batch_gradient_descent_func(x, t, np.zeros((30, 4)), np.zeros(4), 2, 0.1))
first("SGD", lambda: fastnp.stochastic_gradient_descent_func(x, t, np.zeros((30, 4)), np.zeros(4), 2, 0.1, 3, 0))
import json; print(json.dumps(out))
"""


def _first_calls(env):
    done = subprocess.run([sys.executable, "-c", FIRST_CALL_SCRIPT], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


WARM_UP_SCRIPT = """
import sys
sys.modules["torch"] = None  # only fastnp's kernels are wanted here; importing torch takes seconds
from fastnp import bench
bench.warm_up_group(sys.argv[1] == "quick", int(sys.argv[2]))
"""


def warm_up_group(quick, group):
    """Call fastnp's side of each case of one warm-up group once, so that its
    kernels are compiled into numba's cache (or loaded from it); group 1
    also makes the first calls that first_call_costs times."""
    for case in all_cases(quick, group):
        case.impls["fastnp"]()
    if group == 1:
        exec(FIRST_CALL_SCRIPT, {"__name__": "fastnp_first_calls"})


def warm_up(quick):
    """Fill numba's cache with every kernel the bench calls, the two halves
    compiled at once in two processes when there are two cores (numba
    compiles on one core; the cache locks its writes, see
    fastnp.kernels._numba_cache), before anything is timed.  On a fresh
    install this halves the wait for compilation; with a warm cache it only
    loads, in about 3 s.  Returns the seconds it took, or 0.0 when it did
    not run or a process failed (the bench's own first calls then compile
    what is missing)."""
    start = time.perf_counter()
    if (os.cpu_count() or 1) < 2:
        return 0.0
    procs = [subprocess.Popen([sys.executable, "-c", WARM_UP_SCRIPT, "quick" if quick else "full", str(g)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for g in (0, 1)]
    ok = True
    for proc in procs:
        err = proc.communicate()[1]
        if proc.returncode != 0:
            ok = False
            print(f"(compile warm-up process failed, exit {proc.returncode}; the bench compiles as it goes: "
                  f"{err.strip().splitlines()[-1] if err.strip() else ''})", file=sys.stderr)
    return time.perf_counter() - start if ok else 0.0


def first_call_costs(compile=True, cache_filled=False):
    """Seconds of each first call in a fresh process: with a cold numba cache
    (compilation; skipped when compile is False) and with a warm one (loading).
    Without compile the user's cache is used, after one run that fills in
    whatever the bench's own calls did not compile (other paths, small
    shapes), unless cache_filled says warm_up already made those calls."""
    if not compile:
        if not cache_filled:
            _first_calls(dict(os.environ))
        return {k: {"compile": None, "cached": v} for k, v in _first_calls(dict(os.environ)).items()}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold, warm = _first_calls(env), _first_calls(env)
    return {k: {"compile": cold[k], "cached": warm[k]} for k in cold}


def _format_ratio(times, other):
    """times[other] / times['fastnp'], with two decimals where a tie is possible
    (0.97x must not print as 1.0x); '-' where `other` was not timed."""
    if other not in times:
        return f"{'-':>9s}"
    r = times[other] / times["fastnp"]
    return f"{r:8.2f}x" if r < 100 else f"{r:8.0f}x"


def format_table(cases):
    """The table of times, ratios and targets, then one line: every target
    met, or what each missed one fell short by."""
    header = (f"{'case':46s} {'fastnp':>10s} {'numpy':>10s} {'torch':>10s} {'vs numpy':>9s} {'vs torch':>9s}"
              "  met  target")
    lines = [header, "-" * len(header)]
    for c in cases:
        t = c.times
        lines.append(f"{c.name:46s} {format_seconds(t['fastnp']):>10s} {format_seconds(t.get('numpy')):>10s} "
                     f"{format_seconds(t.get('torch')):>10s} {_format_ratio(t, 'numpy')} "
                     f"{_format_ratio(t, 'torch')}  {c.verdict():3s}  {c.target}")
    missed = [f"{c.name} ({'; '.join(c.misses())})" for c in cases if c.verdict() == "NO"]
    checked = sum(c.verdict() != "-" for c in cases)
    torch_unchecked = any("torch" in c.minimum and "torch" not in c.times for c in cases)
    lines.append("")
    if missed:
        lines.append(f"targets missed: {', '.join(missed)}")
    else:  # not "every target met" while a part of some target went unmeasured
        lines.append(f"every target {'checked was ' if torch_unchecked else ''}met ({checked} cases)")
    if torch_unchecked:
        lines.append("torch is not installed: the targets against torch were not checked")
    return "\n".join(lines)


def busy_loop():
    """A process that keeps one core busy (for --busy)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def check_writable(path):
    """Raise OSError now if path cannot be written; an existing file is left as it is."""
    existed = os.path.exists(path)
    with open(path, "a"):
        pass
    if not existed:
        os.remove(path)


def main(args):
    if args.json:
        try:  # before minutes of timing, not after
            check_writable(args.json)
        except OSError as err:
            print(f"fastnp: cannot write the JSON report: {err}", file=sys.stderr)
            return 1
    info = machine_info()
    busy = busy_loop() if args.busy else None
    try:
        return _run(args, info)
    finally:
        if busy is not None:
            busy.kill()


def _run(args, info):
    flags = "".join(f" --{f}" for f in ("quick", "busy") if getattr(args, f))
    print(f"fastnp {fastnp.__version__} bench{flags}: "
          + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    seconds = warm_up(args.quick)
    if seconds:
        print(f"kernels compiled into numba's cache, or loaded from it, in two processes: {seconds:.1f} s", flush=True)
    cases = []
    for case in all_cases(args.quick):
        cases.append(run_case(case, args.quick))
        if not args.quiet:
            print(f"  {case.name}: " + ", ".join(f"{k} {format_seconds(v)}" for k, v in case.times.items()), flush=True)
    print()
    print(format_table(cases))
    rates = matmul_peak()
    print(f"\nmatmul-bound cases (x @ W at 100x3072x1024 runs at {rates['numpy']:.1f} GFLOP/s through numpy's\n"
          f"BLAS and {rates['scipy']:.1f} through scipy's, which fastnp's kernels call; rates count the products\n"
          "each case needs: the textbook also computes the first layer's unused dx):")
    for c in cases:
        if c.flops and "SGD" not in c.name:
            print(f"  {c.name}: " + ", ".join(f"{k} {c.flops / v / 1e9:.1f} GFLOP/s" for k, v in c.times.items()))
    steps = sgd_steps(args.quick)
    bound = gather_bound(steps)
    sgd = next(c for c in cases if c.name.startswith("SGD") and "mini_batch 10" in c.name)
    print(f"\nSGD memory floor: reading 10 random 24 KB rows per step takes {format_seconds(bound)} "
          f"for {steps} steps; fastnp's SGD takes {sgd.times['fastnp'] / bound:.1f}x that")
    first = first_call_costs(compile=not args.quick, cache_filled=seconds > 0)
    print("\nfirst call in a fresh process (cold numba cache: compile, skipped with --quick; warm cache: load):")
    for name, cost in first.items():
        compiled, cached = format_seconds(cost["compile"]), format_seconds(cost["cached"])
        print(f"  {name:24s} compile {compiled:>9s}   cached {cached:>9s}")
    if args.json:
        report = {"machine": info, "quick": args.quick, "first_call": first,
                  "matmul_peak_gflops": max(rates.values()), "matmul_gflops": rates,
                  "sgd_gather_bound_s": bound, "sgd_gather_steps": steps, "busy_core": args.busy,
                  "cases": [{"name": c.name, "target": c.target, "met": c.verdict(), "seconds": c.times,
                             "block_seconds": c.block_times, "flops": c.flops} for c in cases]}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {args.json}")
    return 0
