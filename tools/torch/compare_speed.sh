#!/bin/bash
# PyTorch peer and sharpctr in turn on this machine, for the speed ratios in docs/BENCHMARKS.md:
# training samples/s (2 threads) and one 100-candidate request (1 thread), DeepFM and DIN,
# interleaved ROUNDS times (default 2) so that a noisy host's phases hit both sides.
# Ends with a table of the ratios per round (issue 4: training ≥ 5×, request p50 ≤ 1/3).
# Needs SHARPCTR_DATA (the folder holding ml-1m) and Debian's python3-torch + python3-sklearn.
# TRAINED=DIR times our requests with trained weights, DIR/<model>/seed2024 (a `compare --out DIR`
# folder): a ReLU MLP skips the all-zero positions trained ReLUs leave, so untrained weights (the
# default, the configs) overstate DeepFM's request; the peer's dense products cost the same either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SHARPCTR_DATA:?set SHARPCTR_DATA to the folder that holds ml-1m}"
export ML1M_DIR="$SHARPCTR_DATA/ml-1m"
rows=()
for round in $(seq 1 "${ROUNDS:-2}"); do
  for m in deepfm din; do
    echo "== round $round $m peer $(date -u +%H:%M:%S)"
    peer="$(/usr/bin/python3 tools/torch/peer_ctr.py --model $m --bench-only --bench-steps 150 --threads 2 | tail -1 |
      /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); r=d['request_100']; print(round(d['train_samples_per_second']), round(r['p50_ms'], 3), round(r['p99_ms'], 3))")"
    read -r peer_train peer_p50 peer_p99 <<<"$peer"
    echo "peer $m train $peer_train samples/s, request p50 $peer_p50 p99 $peer_p99 ms"
    echo "== round $round $m sharpctr $(date -u +%H:%M:%S)"
    train="$(./sharpctr bench train configs/movielens-1m/$m.yaml | tail -1)"
    weights="configs/movielens-1m/$m.yaml"
    if [[ -n "${TRAINED:-}" ]]; then weights="$TRAINED/$m/seed2024"; fi
    request="$(./sharpctr bench request "$weights" | grep " p50 ")"
    echo "$train"; echo "$request"
    ours_train="$(grep -oE '^[a-z0-9_-]+: [0-9,]+ samples/s' <<<"$train" | grep -oE '[0-9,]+' | tr -d ,)"
    ours_p50="$(grep -oE 'p50 [0-9.]+' <<<"$request" | cut -d' ' -f2)"
    rows+=("| $round | $m | $ours_train / $peer_train | $(awk -v a="$ours_train" -v b="$peer_train" 'BEGIN{printf "%.2f", a/b}')× | $ours_p50 / $peer_p50 | $(awk -v a="$ours_p50" -v b="$peer_p50" 'BEGIN{printf "%.2f", a/b}') |")
  done
done
echo
echo "| round | model | training samples/s: ours / peer | ratio | request p50 ms: ours / peer | ratio |"
echo "|---|---|---|---:|---|---:|"
printf '%s\n' "${rows[@]}"
