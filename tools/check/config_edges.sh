#!/usr/bin/env bash
# Trains every MovieLens config (and MovieLens-100K's CDP) on a few thousand rows with one model key
# at the edge of its range — each layer-width list empty, each size or count 1, top-k / windows /
# beam far above the data — and prints one line per run that was not an unknown key: ok, ERR (a
# configuration error, the message) or CRASH (an exception with a stack trace: a bug). Design note 43.
#   SHARPCTR_DATA=../shared/datasets tools/check/config_edges.sh [CONFIG…]
set -uo pipefail
cd "$(dirname "$0")/../.."
./sharpctr --help > /dev/null   # build once
configs=("$@")
if [[ ${#configs[@]} -eq 0 ]]; then
  for c in configs/movielens-1m/*.yaml configs/movielens-100k/cdp.yaml; do
    case $(basename "$c" .yaml) in data|genci-data|tokenizer|genci|genci-no-*|genci-beam10-trie|genci-intent-mean|genci-target-intent|genci-our-ids|genci-prefix-cohorts|*-tuned) ;; *) configs+=("$c");; esac
  done
fi
edges=(mlp=[] attention_units=[] cin=[] afn_mlp=[] modulus_mlp=[] windows=[] denoiser_units=[] denoiser=[] sr_mlp=[]
       embedding_dim=1 attention_dim=1 heads=1 head_dim=1 d_model=1 d_ff=1 max_history=1 top_k=1 top_k=5000 window=1 window=5000
       search_dim=1 latent_dim=1 levels=1 cohort_heads=1 hidden=1 rotation_dim=1 logarithmic_neurons=1 experts=1 condition_dim=1
       step_dim=1 inference_steps=1 train_steps=1 start_step=1 cross_layers=1 attention_layers=1 layers=1 beam=3 beam=500
       top_k_query=1 top_k_target=1 steps=1 windows=[1] windows=[5000] encoder_layers=1 decoder_layers=1)
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT
for cfg in "${configs[@]}"; do
  for kv in "${edges[@]}"; do
    out=$(dotnet .build/cli/sharpctr.dll train "$cfg" --set "model.$kv" --set train.epochs=1 --set train.max_train_rows=2000 \
          --set train.max_eval_rows=2000 --out "$out_dir/run" 2>&1)
    rm -rf "$out_dir/run"
    if grep -q "unknown key" <<< "$out"; then continue; fi
    if grep -q "^   at " <<< "$out"; then echo "CRASH $cfg $kv: $(grep -m1 -i exception <<< "$out")"
    elif grep -q "^error" <<< "$out"; then echo "ERR   $cfg $kv: $(grep -m1 '^error' <<< "$out")"
    else echo "ok    $cfg $kv"; fi
  done
done
