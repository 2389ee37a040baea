#!/usr/bin/env bash
# GPU check, one prepared script (about 8 min on a CUDA machine):
#   1. the tiny workflow with extractor.device and classifier.training.device on the GPU (AMP on);
#   2. extractor training images/s on the GPU against the CPU, same data (bench/extractor.py);
#   3. `sendflow predict` on a demo video with --device on the GPU, and again on the CPU;
#   4. whether the two predictions agree: valence within --tolerance at every step.
# Without CUDA it runs the same steps on the CPU (the fallback), smaller, and says so.
#
# Usage: bench/gpu.sh [--out DIR] [--device auto|cuda|cuda:N|cpu] [--tolerance 0.05] [--frames N]
#        [--tiny DIR: a finished tiny run (resattn, mstcn) to use instead of step 1]
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
OUT=bench/out/gpu DEVICE=auto TOLERANCE=0.05 FRAMES="" TINY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --tolerance) TOLERANCE=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --tiny) TINY=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/gpu.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$PROJECT/.venv/bin/python}
[ -x "$PY" ] || { echo "bench/gpu.sh: no $PY; run 'make install' first (or set PYTHON)" >&2; exit 2; }
if [ "$DEVICE" = auto ]; then
  DEVICE=$("$PY" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
fi
if [ "$DEVICE" = cpu ]; then
  echo "== no CUDA device: the CPU fallback (the same steps, smaller; GPU figures need a CUDA machine)"
  FRAMES=${FRAMES:-400}
else
  "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" ||
    { echo "bench/gpu.sh: --device $DEVICE but torch sees no CUDA device" >&2; exit 2; }
  "$PY" -c "import torch; print('== GPU:', torch.cuda.get_device_name(0))"
  FRAMES=${FRAMES:-4000}
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export SLURM_CONF=/dev/null  # as make demo: the SLURM plugin's start-up query returns at once

if [ -n "$TINY" ]; then
  echo "== 1. tiny workflow: the finished run in $TINY"
else
  echo "== 1. tiny workflow on $DEVICE"
  TINY=$OUT/tiny
  start=$(date +%s)
  "$PY" -m sendflow.cli --snakefile "$PROJECT/Snakefile" --directory "$OUT/tiny" --cores 2 --quiet \
    --config data.demo.speakers=6 data.demo.clips_per_speaker=2 data.demo.seconds=8 cv.k=2 frames.size=32 \
    extractor.kinds=[resattn] extractor.epochs=2 classifier.names=[mstcn] classifier.training.epochs=3 \
    classifier.training.allow_one_class=true "extractor.device=$DEVICE" "classifier.training.device=$DEVICE" \
    > "$OUT/tiny.log" 2>&1 || { tail -30 "$OUT/tiny.log"; exit 1; }
  echo "   finished in $(( $(date +%s) - start )) s; CCC per fold:" \
    $("$PY" -c "import json,glob; print(*[round(json.load(open(p))['ccc'], 3) for p in sorted(glob.glob('$OUT/tiny/results/classifier/resattn/mstcn/three/fold*/metrics.json'))])")
fi

echo "== 2. extractor training images/s, $FRAMES frames: $DEVICE against cpu"
(cd "$PROJECT" && "$PY" bench/extractor.py --frames "$FRAMES" --device "$DEVICE" | tee "$OUT/extractor_$DEVICE.txt")
if [ "$DEVICE" != cpu ]; then
  (cd "$PROJECT" && "$PY" bench/extractor.py --frames "$FRAMES" --device cpu | tee "$OUT/extractor_cpu.txt")
fi

echo "== 3. sendflow predict on $DEVICE and on cpu"
VIDEO=$(ls "$TINY"/data/demo/videos/Test/*.mp4 | head -1)
BUNDLE="$TINY/results/model_zoo/resattn-mstcn-three"
for device in "$DEVICE" cpu; do
  "$PY" -m sendflow.cli predict "$VIDEO" --model "$BUNDLE" --device "$device" --out "$OUT/predict_$device" > /dev/null
done

echo "== 4. $DEVICE and cpu predictions agree?"
"$PY" - "$OUT/predict_$DEVICE" "$OUT/predict_cpu" "$TOLERANCE" <<'EOF'
import sys
from pathlib import Path

import pandas as pd

a_dir, b_dir, tolerance = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
for csv in sorted(a_dir.glob("*.csv")):
    a, b = pd.read_csv(csv), pd.read_csv(b_dir / csv.name)
    gap = (a["valence"] - b["valence"]).abs().max()
    same_class = (a["class"] == b["class"]).mean()
    print(f"   {csv.name}: {len(a)} steps, max |valence difference| {gap:.2e} (tolerance {tolerance}), "
          f"same class at {same_class:.0%} of steps")
    if not gap <= tolerance:
        sys.exit(f"bench/gpu.sh: {csv.name}: predictions differ by {gap:.3g}, more than {tolerance}")
EOF
echo "== done: figures under $OUT"
