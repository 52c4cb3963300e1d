"""fastnp's CUDA kernels against torch CUDA (and fastnp's CPU path), on one GPU.

    python benchmarks/gpu/gpu_bench.py [--json PATH] [--quick] [--cases step,sgd]

Times are medians over repeats after a warm-up.  Kernel times come from CUDA
events around a batch of launches (the GPU's time, launch gaps included);
"call" times are wall-clock per call including the host's launch overhead
and, where the function returns a float, the wait for it.  Each case's first
call in this process (JIT compile included) is reported separately.
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import time
import traceback

import numpy as np
import torch
from numba import cuda

import fastnp
import fastnp.kernels.cuda as gpu
from fastnp import cuda_pool
from fastnp.kernels.cuda import config
from fastnp.kernels.cuda.matmul import matmul

ROWS = []
SECTIONS = ("loss", "softmax", "elementwise", "matmul", "affine", "step", "sgd", "numgrad")


#: GPU clock cycles of the torch.cuda._sleep that precedes each timed batch
#: (about 20 ms): the GPU is busy while the host queues the batch, so the
#: events time the kernels back to back, without the host's launch gaps.
SLEEP_CYCLES = 40_000_000


def events_ms(fn, launches=20, repeats=7):
    """Median GPU time of one fn() in ms, from CUDA events around `launches` calls."""
    fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = cuda.event(), cuda.event()
        torch.cuda._sleep(SLEEP_CYCLES)  # same (legacy default) stream as numba's launches
        start.record()
        for _ in range(launches):
            fn()
        end.record()
        end.synchronize()
        times.append(cuda.event_elapsed_time(start, end) / launches)
    return statistics.median(times)


def torch_ms(fn, launches=20, repeats=7):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(SLEEP_CYCLES)
        start.record()
        for _ in range(launches):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / launches)
    return statistics.median(times)


def wall_ms(fn, repeats=7, sync=cuda.synchronize):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def first_call_ms(fn):
    t0 = time.perf_counter()
    fn()
    cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3


def row(case, fastnp_ms, torch_ms_=None, note="", first_ms=None):
    r = {"case": case, "fastnp_ms": fastnp_ms, "torch_ms": torch_ms_,
         "torch_over_fastnp": (torch_ms_ / fastnp_ms) if torch_ms_ else None, "note": note, "first_call_ms": first_ms}
    ROWS.append(r)
    ratio = f"{r['torch_over_fastnp']:.2f}x" if torch_ms_ else "-"
    tms = f"{torch_ms_:.4f}" if torch_ms_ else "-"
    first = f"{first_ms:.0f}" if first_ms is not None else "-"
    print(f"| {case} | {fastnp_ms:.4f} | {tms} | {ratio} | {first} | {note} |", flush=True)


@contextlib.contextmanager
def section(name):
    """Run one section of the bench; a failure prints its traceback and the
    next section still runs (one run on a lent GPU must report what it can)."""
    try:
        yield
    except Exception:
        traceback.print_exc()
        print(f"| section {name} FAILED (traceback above) | | | | | |", flush=True)


def bandwidth_tbs():
    """Device-to-device copy of 1 GiB through torch: bytes read + written per second."""
    a = torch.empty(2**28, dtype=torch.float32, device="cuda").uniform_()
    b = torch.empty_like(a)
    ms = torch_ms(lambda: b.copy_(a), launches=10)
    return 2 * a.numel() * 4 / (ms * 1e-3) / 1e12


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", help="comma-separated sections: " + ", ".join(SECTIONS))
    args = parser.parse_args()
    chosen = set(args.cases.split(",")) if args.cases else set(SECTIONS)
    if chosen - set(SECTIONS):
        parser.error(f"unknown sections: {sorted(chosen - set(SECTIONS))}")

    def want(section):
        return section in chosen

    torch.backends.cuda.matmul.allow_tf32 = False  # float32 means float32 for both
    rng = np.random.default_rng(0)
    dev = cuda.get_current_device()
    info = {"gpu": dev.name.decode() if isinstance(dev.name, bytes) else dev.name, "cc": dev.compute_capability,
            "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()}
    import numba
    import numba_cuda
    info.update(numba=numba.__version__, numba_cuda=numba_cuda.__version__,
                memory_manager=os.environ.get("NUMBA_CUDA_MEMORY_MANAGER", "default"))
    pool_tag = " (cuda_pool)" if info["memory_manager"] == "fastnp.cuda_pool" else ""
    print(info)
    bw = bandwidth_tbs()
    print(f"device copy bandwidth: {bw:.2f} TB/s (bytes read + written)")
    print("| case | fastnp ms | torch ms | torch/fastnp | first call ms | note |")
    print("| --- | --- | --- | --- | --- | --- |")

    if want("loss"):
        with section("loss"):
            # Fused softmax + cross-entropy (OutputLayer forward + backward)
            for N, dt in ((100, np.float32), (100000, np.float32), (100000, np.float64), (1000000, np.float32)):
                x = cuda.to_device(rng.standard_normal((N, 10)).astype(dt))
                t = cuda.to_device(np.eye(10, dtype=dt)[rng.integers(0, 10, N)])
                dx = cuda.device_array((N, 10), dt)
                loss = cuda.device_array(1)
                first = first_call_ms(lambda: gpu.softmax_cross_entropy_to(loss, 0, dx, x, t))
                ms = events_ms(lambda: gpu.softmax_cross_entropy_to(loss, 0, dx, x, t))
                call = wall_ms(lambda: gpu.softmax_cross_entropy(dx, x, t))
                tx, tt = torch.as_tensor(x, device="cuda"), torch.as_tensor(t, device="cuda")

                def torch_fused():
                    p = torch.softmax(tx, dim=1)
                    loss_ = -(tt * torch.log(p + 1e-9)).sum() / N
                    return loss_, (p - tt) / N

                read_once = x.nbytes / (bw * 1e12) * 1e3  # bw: bytes read + written per second
                moved = 3 * x.nbytes / (bw * 1e12) * 1e3  # read x and t, write dx
                row(f"softmax+CE fwd+bwd N={N} {np.dtype(dt).name}", ms, torch_ms(torch_fused),
                    f"{ms / read_once:.2f}x the time to read the scores once ({read_once * 1e3:.1f} us); "
                    f"{ms / moved:.2f}x its own traffic (x, t, dx); per call with the loss fetched {call:.3f} ms",
                    first)
                if N < 1000000:
                    continue
                # Integer labels instead of one-hot rows, with and without the gradient.
                labels = cuda.to_device(rng.integers(0, 10, N).astype(np.int32))
                tl = torch.as_tensor(labels, device="cuda").long()[:, None]
                lab_bytes = labels.nbytes / (bw * 1e12) * 1e3

                def torch_labels(grad):
                    p = torch.softmax(tx, dim=1)
                    loss_ = -torch.log(p.gather(1, tl) + 1e-9).sum() / N
                    return (loss_, p.scatter_add(1, tl, torch.full_like(p[:, :1], -1.0)) / N) if grad else loss_

                ms = events_ms(lambda: gpu.softmax_cross_entropy_to(loss, 0, dx, x, labels))
                row(f"softmax+CE fwd+bwd N={N} {np.dtype(dt).name}, int32 labels", ms,
                    torch_ms(lambda: torch_labels(True)),
                    f"{ms / read_once:.2f}x read-once; {ms / (2 * read_once + lab_bytes):.2f}x its own traffic "
                    "(x, labels, dx)")
                first = first_call_ms(lambda: gpu.softmax_cross_entropy_loss_to(loss, 0, x, labels))
                ms = events_ms(lambda: gpu.softmax_cross_entropy_loss_to(loss, 0, x, labels))
                row(f"softmax+CE loss only N={N} {np.dtype(dt).name}, int32 labels", ms,
                    torch_ms(lambda: torch_labels(False)),
                    f"{ms / read_once:.2f}x the time to read the scores once (target 1.5x); "
                    f"{ms / (read_once + lab_bytes):.2f}x its own traffic (x, labels)", first)
                # Launch settings of the narrow kernels (the rows above use the shipped ones).
                shipped = config.ROW_THREADS, config.PARTIAL_MAX_BLOCKS, config.LOSS_PAIR_READS
                out = cuda.device_array_like(x)
                try:
                    for threads, max_blocks in ((128, 1056), (128, 1584), (128, 2112), (256, 1056)):
                        config.ROW_THREADS, config.PARTIAL_MAX_BLOCKS = threads, max_blocks
                        config.LOSS_PAIR_READS = False
                        single = events_ms(lambda: gpu.softmax_cross_entropy_loss_to(loss, 0, x, labels))
                        config.LOSS_PAIR_READS = True
                        pairs = events_ms(lambda: gpu.softmax_cross_entropy_loss_to(loss, 0, x, labels))
                        fused = events_ms(lambda: gpu.softmax_cross_entropy_to(loss, 0, dx, x, t))
                        fused_l = events_ms(lambda: gpu.softmax_cross_entropy_to(loss, 0, dx, x, labels))
                        soft = events_ms(lambda: gpu.softmax_rows(out, x))
                        print(f"  {threads} threads, <= {max_blocks} blocks: loss only (labels) read by 8-byte pairs "
                              f"{pairs * 1e3:.1f} us = {pairs / read_once:.2f}x read-once, "
                              f"by scores {single * 1e3:.1f} "
                              f"us = {single / read_once:.2f}x; fused (one-hot) {fused * 1e3:.1f} us = "
                              f"{fused / moved:.2f}x its traffic; fused (labels) {fused_l * 1e3:.1f} us; "
                              f"softmax rows {soft * 1e3:.1f} us", flush=True)
                finally:
                    config.ROW_THREADS, config.PARTIAL_MAX_BLOCKS, config.LOSS_PAIR_READS = shipped

    if want("softmax"):
        with section("softmax"):
            for N, dt in ((100000, np.float32), (1000000, np.float32)):
                x = cuda.to_device(rng.standard_normal((N, 10)).astype(dt))
                out = cuda.device_array_like(x)
                first = first_call_ms(lambda: gpu.softmax_rows(out, x))
                tx = torch.as_tensor(x, device="cuda")
                row(f"softmax rows N={N} float32", events_ms(lambda: gpu.softmax_rows(out, x)),
                    torch_ms(lambda: torch.softmax(tx, dim=1)), "", first)

    if want("elementwise"):
        with section("elementwise"):
            # Elementwise
            n = 10**7
            xv = cuda.to_device(rng.standard_normal(n).astype(np.float32))
            ov, mv = cuda.device_array_like(xv), cuda.device_array(n, np.bool_)
            txv = torch.as_tensor(xv, device="cuda")
            first = first_call_ms(lambda: gpu.relu_forward(ov, mv, xv))
            row("relu fwd 1e7 float32", events_ms(lambda: gpu.relu_forward(ov, mv, xv)),
                torch_ms(lambda: torch.relu(txv)), "fastnp also writes the mask", first)
            row("sigmoid fwd 1e7 float32", events_ms(lambda: gpu.sigmoid_forward(ov, xv)),
                torch_ms(lambda: torch.sigmoid(txv)), "")

    if want("matmul"):
        with section("matmul"):
            # Matrix multiply: first a sweep of tile shapes (checked against float64 at
            # 1024^3), then the fastest one is used for every case below.
            for dt, tiles in ((np.float32, [(128, 128, 8, 8, 8), (128, 128, 16, 8, 8), (128, 64, 8, 8, 4),
                                            (64, 128, 8, 4, 8), (64, 64, 8, 4, 4), (64, 64, 16, 4, 4)]),
                              (np.float64, [(64, 64, 8, 4, 4), (64, 64, 16, 4, 4), (128, 64, 8, 8, 4),
                                            (32, 32, 8, 2, 2)])):
                name = np.dtype(dt).name
                a = cuda.to_device(rng.standard_normal((4096, 4096)).astype(dt))
                b = cuda.to_device(rng.standard_normal((4096, 4096)).astype(dt))
                c = cuda.device_array((4096, 4096), dt)
                small = [cuda.to_device(rng.standard_normal((1024, 1000)).astype(dt)),
                         cuda.to_device(rng.standard_normal((1000, 1030)).astype(dt))]
                a64, b64 = (torch.as_tensor(s, device="cuda").double() for s in small)
                ref = a64 @ b64
                c_small = cuda.device_array((1024, 1030), dt)
                best = None
                for tile in tiles:
                    config.MATMUL_TILE[name] = tile
                    matmul(c_small, *small)
                    err = float((torch.as_tensor(c_small, device="cuda").double() - ref).norm() / ref.norm())
                    ms = events_ms(lambda: matmul(c, a, b), launches=3, repeats=5)
                    tflops = 2 * 4096**3 / ms / 1e9
                    print(f"  tile {tile} {name}: {ms:.2f} ms, {tflops:.1f} TFLOP/s, rel err {err:.1e}", flush=True)
                    if err < (1e-5 if dt == np.float32 else 1e-13) and (best is None or ms < best[0]):
                        best = (ms, tile)
                config.MATMUL_TILE[name] = best[1]
                print(f"  -> {name} tile {best[1]}", flush=True)
                info[f"matmul_tile_{name}"] = best[1]

            for size, dt in ((4096, np.float32), (4096, np.float64), (2048, np.float32)):
                a = cuda.to_device(rng.standard_normal((size, size)).astype(dt))
                b = cuda.to_device(rng.standard_normal((size, size)).astype(dt))
                c = cuda.device_array((size, size), dt)
                first = first_call_ms(lambda: matmul(c, a, b))
                ms = events_ms(lambda: matmul(c, a, b), launches=5, repeats=5)
                ta, tb = torch.as_tensor(a, device="cuda"), torch.as_tensor(b, device="cuda")
                tms = torch_ms(lambda: ta @ tb, launches=5, repeats=5)
                ref = (ta.double() @ tb.double()) if size <= 2048 else None
                err = ""
                if ref is not None:
                    rel = (torch.as_tensor(c, device="cuda").double() - ref).norm() / ref.norm()
                    err = f"; rel err {float(rel):.1e}"
                flop = 2 * size**3
                row(f"matmul {size}^3 {np.dtype(dt).name}", ms, tms,
                    f"{flop / ms / 1e9:.1f} TFLOP/s vs torch {flop / tms / 1e9:.1f} ({tms / ms:.0%} of torch){err}",
                    first)

            # The two large products of a TwoLayerNet step at batch 4096 (float32)
            xa = cuda.to_device(rng.standard_normal((4096, 3072)).astype(np.float32))
            Wa = cuda.to_device(rng.standard_normal((3072, 1024)).astype(np.float32))
            ha = cuda.to_device(rng.standard_normal((4096, 1024)).astype(np.float32))
            txa, tWa, tha = (torch.as_tensor(v, device="cuda") for v in (xa, Wa, ha))
            h_out, dW_out = cuda.device_array((4096, 1024), np.float32), cuda.device_array((3072, 1024), np.float32)
            flop = 2 * 4096 * 3072 * 1024
            for name, fn, tfn in (("x @ W1 4096x3072x1024", lambda: matmul(h_out, xa, Wa), lambda: txa @ tWa),
                                  ("x.T @ dout 3072x4096x1024", lambda: matmul(dW_out, xa, ha, trans_a=True),
                                   lambda: txa.T @ tha)):
                ms, tms = events_ms(fn, launches=5, repeats=5), torch_ms(tfn, launches=5, repeats=5)
                row(f"matmul {name} float32", ms, tms, f"{flop / ms / 1e9:.1f} TFLOP/s vs torch {flop / tms / 1e9:.1f}")

    if want("affine"):
        with section("affine"):
            # Affine forward + backward at the course's shape
            x = cuda.to_device(rng.standard_normal((100, 3072)).astype(np.float32))
            W = cuda.to_device((0.01 * rng.standard_normal((3072, 1024))).astype(np.float32))
            bias = cuda.to_device(np.zeros(1024, np.float32))
            dout = cuda.to_device(rng.standard_normal((100, 1024)).astype(np.float32))
            out, dxa = cuda.device_array((100, 1024), np.float32), cuda.device_array((100, 3072), np.float32)
            dW, db = cuda.device_array((3072, 1024), np.float32), cuda.device_array(1024, np.float32)

            def affine_step():
                gpu.affine_forward(out, x, W, bias)
                gpu.affine_backward_params(dW, db, dout, x)
                gpu.affine_backward_input(dxa, dout, W)

            tx, tW = torch.as_tensor(x, device="cuda"), torch.as_tensor(W, device="cuda")
            tbias, tdout = torch.as_tensor(bias, device="cuda"), torch.as_tensor(dout, device="cuda")

            def torch_affine():
                tx @ tW + tbias
                tx.T @ tdout, tdout.sum(0), tdout @ tW.T

            row("affine fwd+bwd 100x3072x1024 float32", events_ms(affine_step), torch_ms(torch_affine), "")

    if want("step"):
        with section("step"):
            # TwoLayerNet training step: gradient + update, 3072-1024-10
            for batch in (100, 4096):
                xb = rng.standard_normal((batch, 3072)).astype(np.float32)
                labels = rng.integers(0, 10, batch)
                tb = np.eye(10, dtype=np.float32)[labels]
                net = TwoLayerNetFor("cuda")
                gx, gt = cuda.to_device(xb), cuda.to_device(tb)

                def gpu_step():
                    net.gradient(gx, gt)
                    net.update_params(0.1)

                first = first_call_ms(gpu_step)
                ms = wall_ms(gpu_step, repeats=11)
                cuda_pool.enabled = False  # plain numba allocations, as before fastnp cached its arrays
                try:
                    uncached = wall_ms(gpu_step, repeats=11)
                finally:
                    cuda_pool.enabled = True
                tnet = [torch.as_tensor(net.params[k].copy_to_host(), device="cuda").requires_grad_()
                        for k in ("W1", "b1", "W2", "b2")]
                txb, ttb = torch.as_tensor(xb, device="cuda"), torch.as_tensor(tb, device="cuda")

                def torch_step():
                    W1, b1, W2, b2 = tnet
                    s = torch.relu(txb @ W1 + b1) @ W2 + b2
                    loss_ = -(ttb * torch.log(torch.softmax(s, 1) + 1e-9)).sum() / batch
                    grads = torch.autograd.grad(loss_, tnet)
                    with torch.no_grad():
                        for p, g in zip(tnet, grads):
                            p -= 0.1 * g

                tms = wall_ms(torch_step, repeats=11, sync=torch.cuda.synchronize)
                cpu_net = TwoLayerNetFor("cpu")

                def cpu_step():
                    cpu_net.gradient(xb, tb)
                    cpu_net.update_params(0.1)

                cpu_ms = wall_ms(cpu_step, repeats=3 if batch > 1000 else 7, sync=lambda: None)
                gpu_only = events_ms(gpu_step, launches=3, repeats=5)
                row(f"TwoLayerNet step batch {batch} float32{pool_tag}", ms, tms,
                    f"GPU time {gpu_only:.2f} ms; {uncached:.2f} ms without fastnp's array cache; "
                    f"fastnp CPU path {cpu_ms:.1f} ms on this machine's CPU: GPU {cpu_ms / ms:.1f}x faster", first)

    if want("sgd"):
        with section("sgd"):
            # Linear classifier SGD (course shapes) and the numerical gradient
            X = rng.standard_normal((10000, 3072))
            Y = np.eye(10)[rng.integers(0, 10, 10000)]
            W0 = 0.001 * rng.standard_normal((3072, 10))
            gX, gY = cuda.to_device(X), cuda.to_device(Y)
            its = 300 if args.quick else 1000

            def sgd_on(X_, Y_, updates=its, mini_batch=10):
                return lambda: fastnp.stochastic_gradient_descent_func(X_, Y_, W0, np.zeros(10), updates, 1e-3,
                                                                       mini_batch, 0, None)

            first = first_call_ms(sgd_on(gX, gY))
            ms = wall_ms(sgd_on(gX, gY), repeats=3)
            cpu_ms = wall_ms(sgd_on(X, Y), repeats=3, sync=lambda: None)
            row(f"SGD 10000x3072, {its} x mini_batch 10, float64{pool_tag}", ms, None,
                f"fastnp CPU path {cpu_ms:.1f} ms ({cpu_ms / ms:.2f}x)", first)
            # Per-sample SGD, one epoch (the CPU case 2)
            ms = wall_ms(sgd_on(gX, gY, 10000, 1), repeats=3)
            cpu_ms = wall_ms(sgd_on(X, Y, 10000, 1), repeats=3, sync=lambda: None)
            row(f"SGD 10000x3072, 10000 x mini_batch 1, float64{pool_tag}", ms, None,
                f"fastnp CPU path {cpu_ms:.1f} ms ({cpu_ms / ms:.2f}x)")

            def batch_gd_on(X_, Y_):
                return lambda: fastnp.batch_gradient_descent_func(X_, Y_, W0, np.zeros(10), 100, 0.1)

            X20, Y20 = X[:20], Y[:20]
            gX20, gY20 = cuda.to_device(X20), cuda.to_device(Y20)
            first = first_call_ms(batch_gd_on(gX20, gY20))
            ms = wall_ms(batch_gd_on(gX20, gY20), repeats=3)
            cpu_ms = wall_ms(batch_gd_on(X20, Y20), repeats=3, sync=lambda: None)
            g_results, c_results = batch_gd_on(gX20, gY20)(), batch_gd_on(X20, Y20)()
            diff = max(float(np.abs(np.asarray(g.copy_to_host()) - c).max())
                       for g, c in zip(g_results, c_results) if c.size)
            row(f"batch GD 20x3072, 100 its, float64{pool_tag}", ms, None,
                f"fastnp CPU path {cpu_ms:.1f} ms ({cpu_ms / ms:.2f}x); max |GPU - CPU| {diff:.1e}", first)

    if want("numgrad"):
        with section("numgrad"):
            for N, H in ((20, 10), (100, 1024)):
                net = fastnp.TwoLayerNet(3072, H, 10, seed=0, device="cuda")
                x = rng.standard_normal((N, 3072))
                t = np.eye(10)[rng.integers(0, 10, N)]
                gx, gt = cuda.to_device(x), cuda.to_device(t)
                first = first_call_ms(lambda: net.numerical_gradient(gx, gt))
                ms = wall_ms(lambda: net.numerical_gradient(gx, gt), repeats=3)
                cnet = fastnp.TwoLayerNet(3072, H, 10, seed=0)
                cpu_ms = wall_ms(lambda: cnet.numerical_gradient(x, t), repeats=3, sync=lambda: None)
                g_gpu = {k: v.copy_to_host() for k, v in net.numerical_gradient(gx, gt).items()}
                g_cpu = cnet.numerical_gradient(x, t)
                diff = max(float(np.abs(g_gpu[k] - g_cpu[k]).max()) for k in g_cpu)
                row(f"numerical gradient 3072-{H}-10, {N} images", ms, None,
                    f"fastnp CPU path {cpu_ms:.1f} ms; max |GPU - CPU| {diff:.1e}", first)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "bandwidth_tbs": bw, "rows": ROWS}, f, indent=1)


def TwoLayerNetFor(device):
    return fastnp.TwoLayerNet(3072, 1024, 10, seed=0, dtype=np.float32, device=device)


if __name__ == "__main__":
    main()
