#!/usr/bin/env bash
# Spoken digits (zero..nine) with SpeechBrain's x-vector classifier on fbank,
# reusing an ImportantAug generator trained by ../kws for another task: the
# training step adds `ImportantAug` from hyperpyyaml, nothing else.
#
#   ./run.sh --preset demo --data_dir ../kws/data/synth
#   ./run.sh --preset tiny --data_dir D --exp_dir E --generator G.pt
#
# Stages (a range with --stage N --stop_stage M; finished systems skip):
#   1 data          digit manifests filtered from the KWS data folder's manifests
#   2 baseline      x-vector classifier on clean data
#   3 importantaug  the same with ImportantAug (frozen KWS generator, -12.5 dB)
#   4 results       clean + noisy test sets -> results.csv, results.md, plot
#   5 export        model folders (iaug-export) and importance maps (iaug-plot)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

stage=1
stop_stage=5
preset=demo                   # tiny | demo
data_dir=../kws/data/synth    # the KWS recipe's data folder (manifests/ inside)
exp_dir=""
generator=""                  # KWS generator: experiment folder, .ckpt or authors' .pt
init_from_baseline=true       # true: ImportantAug starts from the trained baseline (the
                              # paper); false: from scratch, same epochs (see RESULTS.md)
device=cpu

. "$root/tools/parse_options.sh"
[ -n "$exp_dir" ] || exp_dir=exp/$preset
preset_file=hparams/presets/$preset.yaml
[ -f "$preset_file" ] || { echo "run.sh: unknown preset '$preset' (no $preset_file)" >&2; exit 1; }
if [ -z "$generator" ]; then
  # the KWS recipe's generator of the same preset, else the authors' checkpoint
  generator=../kws/exp/synth_$preset/generator
  ls "$generator"/save/CKPT+* >/dev/null 2>&1 || generator=$root/../shared/reference/importantaug_clf_frozen.pt
fi
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
manifests=$exp_dir/manifests
mkdir -p "$exp_dir"
log() { echo "$(date '+%F %T') [stage $1] ${*:2}"; }
run_stage() { stage_now=$1; [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

train() {  # train SYSTEM [overrides...]: skips a finished system
  local system=$1; shift
  if [ -f "$exp_dir/$system/.done" ]; then log "$stage_now" "$system: done, skipping"; return; fi
  local tests="{test: '$manifests/test.csv'" f
  for f in "$manifests"/noisy/*.csv; do
    [ -e "$f" ] && tests+=", $(basename "$f" .csv): '$f'"
  done
  log "$stage_now" "training $system (preset $preset)"
  python3 train.py hparams/train.yaml --preset "$preset_file" --manifest_dir "$manifests" \
    --exp_dir "$exp_dir" --output_folder "$exp_dir/$system" --test_csvs "$tests}" \
    --device "${device/cuda/cuda:0}" "$@"
  touch "$exp_dir/$system/.done"
}

if run_stage 1; then
  log 1 "digit manifests from $data_dir/manifests -> $manifests"
  python3 local/prepare.py --data_dir "$data_dir" --out_dir "$manifests"
fi

if run_stage 2; then
  train baseline --augment null
fi

if run_stage 3; then
  log 3 "generator: $generator"
  init=null; [ "$init_from_baseline" = true ] && init=$exp_dir/baseline
  train importantaug --generator "$generator" \
    --noise_csv "$data_dir/manifests/noise_train.csv" --init_recognizer "$init"
fi

if run_stage 4; then
  log 4 "results -> $exp_dir/results.md"
  python3 local/results.py --exp_dir "$exp_dir" --manifest_dir "$manifests" baseline importantaug
  cat "$exp_dir/results.md"
fi

if run_stage 5; then
  log 5 "model folders -> $exp_dir/models, importance maps -> $exp_dir/importance_maps.png"
  for system in baseline importantaug; do
    python3 -m iaug.export --exp_dir "$exp_dir" --system $system --generator "$generator" \
      --out "$exp_dir/models/$system"
  done
  wavs=$(python3 -c 'import csv,sys; rows=list(csv.DictReader(open(sys.argv[1])))
seen={}; [seen.setdefault(r["label"], r["wav"]) for r in rows]; print(" ".join(list(seen.values())[:4]))' \
    "$manifests/test.csv")
  python3 -m iaug.cli.plot importance --generator "$generator" \
    --out "$exp_dir/importance_maps.png" $wavs
fi
