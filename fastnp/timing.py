"""Timing helpers shared by `fastnp demo` and `fastnp bench`.

Each implementation is timed in its own block after its own warm-up (torch
and numpy keep separate thread pools; interleaving single calls would time
one library while the other's pool still spins), and the median of several
samples is reported.  Before each block, settle() waits until the previous
block's BLAS threads have stopped spinning.
"""
import os
import platform
import statistics
import time


# OpenBLAS's worker threads spin for 2**28 TSC cycles (0.1 s at 2.5 GHz) after
# a call before they sleep.  A library timed right after another library's
# products shares the cores with those threads: measured here, numpy's Affine
# forward+backward took 26-46 ms right after fastnp's and 24-34 ms after a
# 0.3 s pause.  settle() watches this process's CPU time instead of sleeping
# a fixed time: measured here, it waits 0.11-0.12 s after a block of BLAS
# calls and 0.02 s after one that leaves no thread spinning (torch's OpenMP
# threads, numba's), which took a quick bench from 29 s of cases to 16-18 s.
SETTLE_POLL_S = 0.01
SETTLE_MAX_S = 0.5


def settle(max_s=SETTLE_MAX_S):
    """Wait until no thread of this process uses the CPU (the BLAS threads of
    whatever ran before have gone to sleep): two polls in a row in which the
    process's CPU time grew by under 5% of the wall time, or max_s."""
    deadline = time.perf_counter() + max_s
    quiet = 0
    while quiet < 2 and time.perf_counter() < deadline:
        wall, cpu = time.perf_counter(), time.process_time()
        time.sleep(SETTLE_POLL_S)
        busy = (time.process_time() - cpu) / (time.perf_counter() - wall)
        quiet = quiet + 1 if busy < 0.05 else 0


def median_time(fn, repeats=7, min_sample_s=0.02, warmup=2):
    """Median seconds per call of fn() over `repeats` samples.

    Each sample runs fn enough times to last about min_sample_s, so short
    calls are not lost in timer resolution; a call that alone lasts that
    long is its own sample (the sizing call counts as the first).  The first
    `warmup` calls (JIT compilation, caches, thread pools) are not timed.
    """
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-9)
    number = max(1, int(min_sample_s / once))
    samples = [once] if number == 1 else []
    while len(samples) < repeats:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    """CPU, cores, threads and library versions, for every report."""
    import numba
    import numpy
    import scipy

    info = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    for var in ("OPENBLAS_CORETYPE", "OMP_WAIT_POLICY", "NUMBA_NUM_THREADS"):
        if os.environ.get(var):
            info[var] = os.environ[var]
    return info


def format_seconds(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"
