#!/usr/bin/env bash
# Training throughput and request latency of every MovieLens-1M model config, one after another,
# as one markdown table (run it on an idle machine: each line is a short benchmark).
# Usage: SHARPCTR_DATA=../shared/datasets tools/bench/zoo-throughput.sh [STEPS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
steps="${1:-40}"
models="${MODELS:-lr fm fwfm nfm pnn opnn deepfm dcnv2 autoint_plus xdeepfm afn_plus fignn rfm sfg din dien twin hstu qin mirrn ddrm cdp genci-small}"
echo "| model | train samples/s | KiB allocated/step | request p50 ms | p99 ms | KB allocated/request |"
echo "|---|---:|---:|---:|---:|---:|"
for m in $models; do
  cfg="$here/configs/movielens-1m/$m.yaml"
  s=$steps; [[ "$m" == genci-small || "$m" == dien ]] && s=$(( steps / 4 > 5 ? steps / 4 : 5 ))
  train="$("$here/sharpctr" bench train "$cfg" --steps "$s" 2>&1 | grep -E 'samples/s' | tail -1)"
  req="$("$here/sharpctr" bench request "$cfg" --requests 300 2>&1 | grep -E 'p50' | head -1)"
  sps="$(grep -oE '[0-9,.]+ samples/s' <<<"$train" | head -1 | cut -d' ' -f1)"
  alloc="$(grep -oE "[0-9,.]+ KiB allocated/step" <<<"$train" | head -1 | cut -d" " -f1)"
  p50="$(grep -oE 'p50 [0-9.]+' <<<"$req" | cut -d' ' -f2)"; p99="$(grep -oE 'p99 [0-9.]+' <<<"$req" | cut -d' ' -f2)"
  reqalloc="$(grep -oE '[0-9,]+ bytes allocated' <<<"$req" | cut -d' ' -f1 | tr -d ,)"
  echo "| $m | $sps | $alloc | $p50 | $p99 | $(( ${reqalloc:-0} / 1024 )) |"
done
