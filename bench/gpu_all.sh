#!/usr/bin/env bash
# Every GPU figure of the project in one run (issue 19 part 4), for a machine with one CUDA GPU:
#   bench/gpu_svd.py   stock vs camera-guided KSampler on a full-size random-weight SVD-XT at 576x1024, 14 and 25
#                      frames (s/step, decode, peak memory) and the draw-to-video SVD path vs stock sample + decode;
#   bench/gpu_more.py  the opt-in compiled path (compile time, s/step, recompiles over 3 seeds x 2 strokes), the
#                      whole graph with RIFE x2 and grade vs stock, and the 2.5D render and RIFE throughput.
# Results are appended to BENCHMARKS.md with the device named; logs and a copy of BENCHMARKS.md go to $OUT (or
# bench/_output/gpu). Each part has its own time limit so one slow part cannot eat the others' time.
#   bash bench/gpu_all.sh            # on the GPU machine
#   bash bench/gpu_all.sh --smoke    # tiny CPU check that every part runs (nothing appended)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
DEST="${OUT:-$ROOT/bench/_output/gpu}"
mkdir -p "$DEST"
SMOKE=()
[[ "${1:-}" == "--smoke" ]] && SMOKE=(--smoke)
status=0
run() {  # run LIMIT_S NAME CMD...: one part, its log in $DEST/NAME.log
    local limit=$1 name=$2; shift 2
    echo "== $name (limit ${limit}s)"
    timeout "$limit" "$@" >"$DEST/$name.log" 2>&1
    local rc=$?
    tail -n 40 "$DEST/$name.log"
    echo "== $name: exit $rc"
    [[ $rc -eq 0 ]] || status=1
}
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
run "${GPU_SVD_LIMIT:-240}" gpu_svd "$PY" bench/gpu_svd.py "${SMOKE[@]}" --reps 1
run "${GPU_MORE_LIMIT:-240}" gpu_more "$PY" bench/gpu_more.py "${SMOKE[@]}"
cp BENCHMARKS.md "$DEST/BENCHMARKS.md"
exit $status
