#!/usr/bin/env bash
# The one script for a lent GPU machine (benchmarks/gpu/RESULTS.md):
# versions, the CUDA test tiers for real, then gpu_bench.py.  $OUT gets the logs.
#   bash benchmarks/gpu/run_on_device.sh        # everything (about 2.5 minutes)
#   BENCH_CASES=loss,step bash benchmarks/gpu/run_on_device.sh   # all tests, some bench sections
#   TESTS_K=softmax bash benchmarks/gpu/run_on_device.sh           # the tests pytest -k selects, all the bench
#   bash benchmarks/gpu/run_on_device.sh tests  # the tests alone
#   bash benchmarks/gpu/run_on_device.sh pool   # fastnp.cuda_pool: its test, training steps with and without it
#   bash benchmarks/gpu/run_on_device.sh profile   # Nsight Compute's full report of the loss-only kernel
# With FASTNP_DATA naming a folder that holds cifar-10-batches-py (the data does not travel by
# itself: carry a copy), the default run ends with the CLI's three jobs on --device cuda and cpu.
set -u
OUT=${OUT:-/tmp/fastnp-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=passive NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv
python3 -c "import sys, numpy, numba; print(sys.version.split()[0], 'numpy', numpy.__version__, 'numba', numba.__version__)"
python3 -m pip list 2>/dev/null | grep -i -E "^(numba|numba-cuda|cuda-|llvmlite|torch |numpy)" 
smoke='from numba import cuda; import numpy as np
@cuda.jit
def k(a):
    a[cuda.grid(1)] += 1
x = cuda.to_device(np.zeros(64)); k[2, 32](x); assert x.copy_to_host().sum() == 64; print("numba-cuda works")'
# numba-cuda 0.30 breaks on numpy 2.5: use the carried numpy 2.4 (what the CPU tests ran on).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/numpy-*.whl || exit 1
export PYTHONPATH=/tmp/site
if ! python3 -c "$smoke"; then
  echo "preinstalled numba-cuda failed: installing the carried numba-cuda and CUDA bindings too"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site2 \
    .whl/numba_cuda-*.whl .whl/cuda_*.whl || exit 1
  export PYTHONPATH=/tmp/site2:/tmp/site
  python3 -c "$smoke" || exit 1
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . >/dev/null || exit 1
(cd /tmp && python3 -c "import fastnp, numpy, numba_cuda; print('fastnp', fastnp.__file__, 'numpy', numpy.__version__, 'numba-cuda', numba_cuda.__version__)") || exit 1
if [ "${1:-all}" = pool ]; then
  FASTNP_CUDA_TESTS=1 timeout 120 python3 -m pytest tests/gpu/test_pool.py -q -p no:cacheprovider 2>&1 | tee "$OUT/gpu_tests.log" | tail -5
  timeout 90 python3 benchmarks/gpu/gpu_bench.py --cases step,sgd --quick --json "$OUT/plain.json" 2>&1 | tee "$OUT/plain.log"
  NUMBA_CUDA_MEMORY_MANAGER=fastnp.cuda_pool timeout 90 python3 benchmarks/gpu/gpu_bench.py --cases step,sgd --quick \
    --json "$OUT/pool.json" 2>&1 | tee "$OUT/pool.log"
  exit
fi
if [ "${1:-all}" = profile ]; then
  # The loss-only kernel at 10^6 x 10 float32 with int32 labels (the issue's loss target):
  # its third launch, after two that compile and warm it, under ncu with the clocks left alone.
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  [ -n "$ncu" ] || { echo "no ncu on this machine"; exit 1; }
  cat > /tmp/loss_three_times.py <<'PY'
import numpy as np
from numba import cuda
import fastnp.kernels.cuda as gpu
rng = np.random.default_rng(0)
x = cuda.to_device(rng.standard_normal((10**6, 10)).astype(np.float32))
labels = cuda.to_device(rng.integers(0, 10, 10**6).astype(np.int32))
loss = cuda.device_array(1)
for _ in range(3):
    gpu.softmax_cross_entropy_loss_to(loss, 0, x, labels)
cuda.synchronize()
PY
  timeout 300 "$ncu" --clock-control none --launch-skip 2 --launch-count 1 --set full \
    python3 /tmp/loss_three_times.py > "$OUT/ncu_loss.log" 2>&1
  echo "ncu exit $?"; tail -150 "$OUT/ncu_loss.log"
  exit
fi
FASTNP_CUDA_TESTS=1 timeout 240 python3 -m pytest tests/gpu -q --maxfail=20 -p no:cacheprovider -n 8 \
  ${TESTS_K:+-k "$TESTS_K"} 2>&1 | tee "$OUT/gpu_tests.log" | tail -25
[ "${1:-all}" = tests ] && exit
timeout 210 python3 benchmarks/gpu/gpu_bench.py ${BENCH_CASES:+--cases "$BENCH_CASES"} --json "$OUT/gpu_bench.json" 2>&1 \
  | tee "$OUT/gpu_bench.log"
[ -n "${FASTNP_DATA:-}" ] || exit 0
# The user's view: `fastnp train` and `fastnp gradcheck` on both devices, then how far apart their
# histories ended (the same draws on both, so they differ only by the kernels' rounding).
cli() {  # cli NAME ARGS...: fastnp ARGS on each device, into /tmp/cli-NAME-DEVICE
  name=$1; shift
  for dev in cuda cpu; do
    timeout 90 python3 -m fastnp "$@" --device "$dev" --quiet --out "/tmp/cli-$name-$dev" | tail -2
  done
  python3 - "$name" <<'PY'
import json, sys
import numpy as np
h = {dev: json.load(open(f"/tmp/cli-{sys.argv[1]}-{dev}/history.json")) for dev in ("cuda", "cpu")}
for key in ("loss", "train_acc", "test_acc"):
    if key in h["cpu"]:
        a, b = (np.asarray(h[dev][key], dtype=float) for dev in ("cuda", "cpu"))
        print(f"{sys.argv[1]} {key}: {a.size} values, max |cuda - cpu| {np.max(np.abs(a - b)):.3g}")
for key in ("final_train_acc", "final_test_acc", "mean_abs_diff", "wall_time_s", "backprop_s", "numerical_s"):
    if key in h["cpu"]:
        print(sys.argv[1], key, "cuda", h["cuda"][key], "cpu", h["cpu"][key])
PY
}
{
  cli twolayer train twolayer --n-train 3000 --iterations 1000
  cli linear train linear --n-train 3000
  cli gradcheck gradcheck --n-train 3000
} 2>&1 | tee "$OUT/cli.log"
