#!/usr/bin/env bash
# The GPU verification run: precompile every kernel for this GPU, run the whole test
# suite with the GPU visible (the emulated device off: CI already runs it), then the
# benchmarks. Logs go to $OUT (or ./gpu_check_out), one file per step.
#   PYTHONPATH=. bash scripts/gpu_check.sh
set -uo pipefail
out=${OUT:-gpu_check_out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 CUDA_EMU=0 GPUTENSOR_CACHE_DIR=${GPUTENSOR_CACHE_DIR:-/tmp/gputensor-kernels}
export PYTHONPATH=${PYTHONPATH:-.}
py=${PYTHON:-python3}
nvidia-smi -L | tee "$out/gpu.txt"
arch=$($py -c "import cupy; print('sm_' + cupy.cuda.Device(0).compute_capability)") || exit 1
$py -c "import gputensor as gt; print(gt.config.list_logical_devices())" 2>&1 | tee -a "$out/gpu.txt"
# Every kernel compiled once, in parallel, before the test workers start (they share the cache).
$py -m gputensor.precompile --arch "$arch" --quiet 2>&1 | tail -3 | tee -a "$out/gpu.txt"
jobs=$($py -c "import xdist" 2>/dev/null && echo "-n ${JOBS:-12}")
timeout "${TEST_TIMEOUT:-330}" $py -m pytest -q -p no:cacheprovider $jobs --tb=short -rf \
  --ignore=tests/cuda_harness "$@" 2>&1 | tee "$out/pytest.log" | tail -80
timeout "${BENCH_TIMEOUT:-120}" $py scripts/bench.py ${BENCH_ARGS:---quick} 2>&1 | tee "$out/bench.txt"
