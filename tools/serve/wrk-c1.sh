#!/usr/bin/env bash
# Concurrency-1 latency of the scoring service measured with Debian's wrk (a light client that
# leaves the cores to the service): one user with 30 events in SQLite, one fixed request of 100
# random MovieLens-1M candidates, 5 s of warm-up traffic, then a timed run with --latency.
# Usage: tools/serve/wrk-c1.sh BUNDLE_DIR [SECONDS]   (needs: wrk, python3, SHARPCTR_DATA; SERVE_ARGS adds serve options)
set -euo pipefail
bundle="$1"; seconds="${2:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"; port=18080
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "${SHARPCTR_DATA:?set SHARPCTR_DATA}/ml-1m/movies.dat" "$work" <<'PY'
import json, random, sys
ids = [line.split('::')[0] for line in open(sys.argv[1], encoding='latin-1')]
random.seed(1)
events = {"events": [{"user_id": "42", "item_id": random.choice(ids), "action": "click", "timestamp": 978300000 + i} for i in range(30)]}
json.dump(events, open(sys.argv[2] + '/events.json', 'w'))
json.dump({"user_id": "42", "candidates": [{"item_id": random.choice(ids)} for _ in range(100)]}, open(sys.argv[2] + '/score.json', 'w'))
PY
"$here/sharpctr" serve --bundle "$bundle" --store "sqlite:$work/history.db" --urls "http://127.0.0.1:$port" ${SERVE_ARGS:-} > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.5; done
curl -sf -X POST -H 'Content-Type: application/json' --data @"$work/events.json" "http://127.0.0.1:$port/v1/events" > /dev/null
export WRK_BODY="$work/score.json"
wrk -t1 -c1 -d5s -s "$here/tools/serve/wrk-post.lua" "http://127.0.0.1:$port/v1/score" > /dev/null
wrk -t1 -c1 -d"${seconds}s" --latency -s "$here/tools/serve/wrk-post.lua" "http://127.0.0.1:$port/v1/score"
