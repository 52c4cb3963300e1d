"""The command line: demo output and a small bench case, end to end."""
import argparse
import os
import subprocess
import sys
import threading
import time

import pytest

from fastnp import bench
from fastnp.timing import settle


def run(*args):
    done = subprocess.run([sys.executable, "-m", "fastnp", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_prints_every_course_value():
    out = run("demo")
    for value in ("20.72326583694641", "1.2039728009926025", "13.095060867144417", "7.075548386844261",
                  "0.90887517", "9.52574127e-01"):
        assert value in out
    assert "speed-up" in out


def test_bench_refuses_an_unwritable_json_path_before_timing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench, "_run", lambda args, info: pytest.fail("the bench ran"))
    for path in (tmp_path / "missing" / "report.json", tmp_path):
        args = argparse.Namespace(json=str(path), quick=True, busy=False, quiet=True)
        assert bench.main(args) == 1
        assert "cannot write the JSON report" in capsys.readouterr().err
    existing = tmp_path / "old.json"
    existing.write_text("kept")
    bench.check_writable(existing)
    bench.check_writable(tmp_path / "new.json")
    assert existing.read_text() == "kept" and not (tmp_path / "new.json").exists()


def test_bench_case_and_table():
    case = bench.run_case(bench.case_output_layer(100, "float64"), quick=True)
    assert set(case.times) >= {"fastnp", "numpy"} and all(t > 0 for t in case.times.values())
    table = bench.format_table([case])
    assert "OutputLayer fwd+bwd N=100" in table and "vs numpy" in table


def test_bench_takes_blocks_in_turn_after_a_pause(monkeypatch):
    """Each implementation is timed in one block per round, the implementations
    taking turns, and a BLAS case pauses (settle) before every block."""
    events = []
    monkeypatch.setattr(bench, "settle", lambda: events.append("settle"))
    impls = {name: (lambda name=name: events.append(name)) for name in ("fastnp", "numpy", "torch")}
    case = bench.run_case(bench.Case("fake", impls, repeats=3), quick=False)
    assert set(case.times) == set(impls) and all(t > 0 for t in case.times.values())
    blocks = [e for i, e in enumerate(events) if i and events[i - 1] == "settle"]
    assert blocks == ["fastnp", "numpy", "torch"] * 3
    assert events.count("settle") == 9

    events.clear()
    bench.run_case(bench.Case("fake", impls, repeats=3, blas=False), quick=False)
    assert events.count("settle") == 3  # the first round only: nothing spins between the later blocks


def spin_in_thread(seconds):
    """A thread of this process that burns CPU for `seconds` (as BLAS threads spin after a call)."""
    def spin():
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
    thread = threading.Thread(target=spin)
    thread.start()
    return thread


def test_settle_waits_while_a_thread_of_this_process_spins():
    start = time.perf_counter()
    settle(max_s=2.0)
    idle = time.perf_counter() - start
    thread = spin_in_thread(0.4)
    start = time.perf_counter()
    settle(max_s=2.0)
    spinning = time.perf_counter() - start
    thread.join()
    assert idle < 0.3 and 0.35 < spinning < 1.0, (idle, spinning)
    thread = spin_in_thread(3.0)
    start = time.perf_counter()
    settle(max_s=0.3)  # gives up after max_s
    capped = time.perf_counter() - start
    thread.join()
    assert 0.25 < capped < 0.6, capped


def test_bench_reports_each_implementation_at_its_best_block(monkeypatch):
    """A slow spell over some blocks does not set the time: the best block median does."""
    block_medians = iter([3.0, 5.0, 1.0, 9.0, 2.0, 4.0])  # fastnp, numpy, fastnp, numpy, ...
    monkeypatch.setattr(bench, "settle", lambda: None)
    monkeypatch.setattr(bench, "median_time", lambda fn, **kw: next(block_medians))
    case = bench.run_case(bench.Case("fake", {"fastnp": lambda: None, "numpy": lambda: None}, repeats=3), quick=False)
    assert case.times == {"fastnp": 1.0, "numpy": 4.0}
    assert case.block_times == {"fastnp": [3.0, 1.0, 2.0], "numpy": [5.0, 9.0, 4.0]}  # what --json keeps


def test_bench_ratios_show_a_near_tie():
    times = {"fastnp": 1.0, "numpy": 0.96, "torch": 5607.04}
    assert bench._format_ratio(times, "numpy").strip() == "0.96x"  # not "1.0x"
    assert bench._format_ratio(times, "torch").strip() == "5607x"
    assert bench._format_ratio({"fastnp": 1.0}, "torch").strip() == "-"  # torch not installed


def test_bench_table_says_which_targets_are_met():
    def timed(case, **times):
        case.times = times
        return case
    cases = [
        timed(bench.Case("short of torch", {}, minimum={"numpy": 3, "torch": 2}), fastnp=1.0, numpy=3.5, torch=1.9),
        timed(bench.Case("in seconds", {}, max_seconds=10, note="numpy: hours"), fastnp=0.8, numpy=1e5),
        timed(bench.Case("no target", {}, note="none: the same products"), fastnp=1.0, numpy=1.0),
        timed(bench.Case("no torch here", {}, minimum={"numpy": 1.3, "torch": 1}), fastnp=1.0, numpy=1.5),
    ]
    assert [c.verdict() for c in cases] == ["NO", "yes", "-", "yes"]
    assert cases[1].target == "< 10 s (numpy: hours)" and cases[2].target == "none: the same products"
    table = bench.format_table(cases)
    assert "targets missed: short of torch (1.90x torch, target >= 2x)" in table
    assert "the targets against torch were not checked" in table
    cases[0].times["torch"] = 2.0
    assert "every target checked was met (3 cases)" in bench.format_table(cases)  # "no torch here"
    cases[3].times["torch"] = 1.0
    assert "every target met (3 cases)" in bench.format_table(cases)
    assert "not checked" not in bench.format_table(cases)
    cases[1].times["fastnp"] = 12.0
    assert cases[1].misses() == ["12 s, target < 10 s"]


def test_bench_cases_carry_the_issue_targets():
    assert bench.case_output_layer(100, "float64").minimum == {"numpy": 3, "torch": 2}
    assert bench.case_affine(input_grad=False).minimum == {"numpy": 1.3, "torch": 1}
    assert bench.case_affine().verdict() == "-"
    assert bench.case_batch_gd().minimum == {"numpy": 3}
    assert bench.case_numerical_gradient(10, 2).minimum == {"numpy": 1000}


def test_bench_first_calls_without_compile_report_a_warm_cache_load(monkeypatch):
    """--quick's 'cached' column: the second run in the user's cache, not a first one that may compile."""
    runs = iter([{"softmax": 5.0}, {"softmax": 0.01}])
    monkeypatch.setattr(bench, "_first_calls", lambda env: next(runs))
    assert bench.first_call_costs(compile=False) == {"softmax": {"compile": None, "cached": 0.01}}


COUNT_COMPILES_SCRIPT = """
import sys
sys.modules["torch"] = None
from numba.core import event
compiled = []
class Count(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev):
        pass
event.register("numba:compile", Count())
from fastnp import bench
for group in (0, 1):
    bench.warm_up_group(True, group)
print(compiled)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the warm-up runs only with two cores or more")
def test_bench_warm_up_compiles_every_kernel_the_bench_calls(tmp_path, monkeypatch):
    """After warm_up (two processes compiling into one cold cache at once), a
    fresh process makes every fastnp call of the quick bench without compiling."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert bench.warm_up(quick=True) > 0
    done = subprocess.run([sys.executable, "-c", COUNT_COMPILES_SCRIPT], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
