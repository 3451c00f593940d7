#!/bin/bash
# PyTorch peer and sharpctr in turn on this machine, for the speed ratios in docs/BENCHMARKS.md:
# training samples/s (2 threads) and one 100-candidate request (1 thread), DeepFM and DIN,
# interleaved ROUNDS times (default 2) so that a noisy host's phases hit both sides.
# Needs SHARPCTR_DATA (the folder holding ml-1m) and Debian's python3-torch + python3-sklearn.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SHARPCTR_DATA:?set SHARPCTR_DATA to the folder that holds ml-1m}"
export ML1M_DIR="$SHARPCTR_DATA/ml-1m"
for round in $(seq 1 "${ROUNDS:-2}"); do
  for m in deepfm din; do
    echo "== round $round $m peer $(date -u +%H:%M:%S)"
    /usr/bin/python3 tools/torch/peer_ctr.py --model $m --bench-only --bench-steps 150 --threads 2 | tail -1 |
      /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); r=d['request_100']; print('peer', d['model'], 'train', round(d['train_samples_per_second']), 'samples/s, request p50', round(r['p50_ms'], 3), 'p99', round(r['p99_ms'], 3), 'ms')"
    echo "== round $round $m sharpctr $(date -u +%H:%M:%S)"
    ./sharpctr bench train configs/movielens-1m/$m.yaml | tail -1
    ./sharpctr bench request configs/movielens-1m/$m.yaml | grep " p50 "
  done
done
