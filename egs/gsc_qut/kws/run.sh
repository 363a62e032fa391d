#!/usr/bin/env bash
# ImportantAug for keyword spotting (Google Speech Commands v0.02 + MUSAN/QUT,
# or the offline synthesized corpus).
#
#   ./run.sh --corpus synth --preset demo            # everything, offline
#   ./run.sh --corpus gsc --preset paper --device cuda --ngpu 4
#
# Stages (run a range with --stage N --stop_stage M; finished stages skip):
#   0 data           download (gsc) or synthesize (synth) corpus, noises, noisy test sets
#   1 manifests      SpeechBrain CSVs; every file checked once
#   2 baseline       recognizer on clean data
#   3 noise          conventional noise, one system per SNR, best SNR on dev
#   4 generator      ImportantAug stage A against the frozen baseline
#   5 importantaug   ImportantAug stage B with the frozen generator
#   6 null           Null ImportantAug (all-ones mask)
#   7 binarized      Binarized ImportantAug, one system per q, best q on dev
#   8 evaluation     every system on clean + noisy test sets -> results.csv/md, plots
#                    (a rerun reads back the scores of unchanged systems)
#   9 peers          benchmark rows (run before stage 8): SpeechBrain-style
#                    augmentation, SpecAugment-style masking, ImportantAug + masking
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

stage=0
stop_stage=8            # stage 9 (benchmark peers) runs only when asked
corpus=synth            # synth | gsc
preset=demo             # tiny | demo | paper
data_dir=data/$corpus
exp_dir=""
device=cpu              # cpu | cuda
ngpu=0                  # >1: training stages under torchrun (DDP)
nj=2                    # parallel jobs for data preparation
archive_dir=""          # archives fetched by hand (gsc)
on_bad=fail             # fail | skip: what stage 1 does with bad audio files
authors_ckpt=$root/../shared/reference/importantaug_clf_frozen.pt
authors_generator=false # true: stage 5 also trains from the authors' generator
eval_authors=false      # true: stage 8 also scores the authors' recognizer
seed=""                 # training seed of every system (default: the hparams')

. "$root/tools/parse_options.sh"
[ -n "$exp_dir" ] || exp_dir=exp/${corpus}_${preset}
hp=hparams
preset_file=$hp/presets/$preset.yaml
[ -f "$preset_file" ] || { echo "run.sh: unknown preset '$preset' (no $preset_file)" >&2; exit 1; }
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$exp_dir"
train_extra=()
. "$root/tools/recipe_lib.sh"

sweep() {  # sweep NAME KEY CANDIDATES TAG: one system per candidate value of
  # KEY (listed in hparams/NAME.yaml's CANDIDATES), then NAME -> best on dev
  local name=$1 key=$2 candidates=$3 tag=$4 value systems=()
  for value in $(python3 -m iaug.recipe "$hp/$name.yaml" "$candidates" "$preset_file"); do
    train train_recognizer.py "$hp/$name.yaml" "${name}_$tag$value" --"$key" "$value"
    systems+=("$exp_dir/${name}_$tag$value")
  done
  python3 -c 'import sys; from iaug.scoring import select_on_dev; print("chosen on dev:", select_on_dev(sys.argv[2:], sys.argv[1])[0])' \
    "$exp_dir/$name" "${systems[@]}"
}


if run_stage 0; then
  log 0 "data: corpus=$corpus preset=$preset -> $data_dir"
  python3 local/prepare_data.py download --corpus "$corpus" --preset "$preset" \
    --data_dir "$data_dir" --nj "$nj" ${archive_dir:+--archive_dir "$archive_dir"}
fi

if run_stage 1; then
  log 1 "manifests -> $data_dir/manifests"
  python3 local/prepare_data.py manifests --data_dir "$data_dir" --on_bad "$on_bad"
fi

if run_stage 2; then
  train train_recognizer.py $hp/baseline.yaml baseline
fi

if run_stage 3; then
  sweep noise snr_db snr_candidates snr
fi

if run_stage 4; then
  train train_generator.py $hp/generator.yaml generator
fi

if run_stage 5; then
  train train_recognizer.py $hp/importantaug.yaml importantaug
  if [ "$authors_generator" = true ]; then
    train train_recognizer.py $hp/importantaug.yaml importantaug_authorsgen \
      --generator_source "$authors_ckpt"
  fi
fi

if run_stage 6; then
  train train_recognizer.py $hp/null_importantaug.yaml null_importantaug
fi

if run_stage 7; then
  sweep binarized q q_candidates q
fi

if run_stage 8; then
  log 8 "evaluation -> $exp_dir/results.csv"
  systems=()
  for s in baseline noise importantaug importantaug_authorsgen null_importantaug binarized \
           sb_augment specaugment importantaug_specaugment; do
    [ -e "$exp_dir/$s" ] && systems+=("$s")
  done
  [ "$eval_authors" = true ] && systems+=("authors=$authors_ckpt")
  rm -f "$exp_dir/results.csv"
  python3 -m iaug.cli.evaluate --exp_dir "$exp_dir" --system "${systems[@]}" \
    --manifest "$data_dir/manifests/test.csv" $(ls "$data_dir"/manifests/noisy/*.csv) \
    --results_csv "$exp_dir/results.csv" --device "${device/cuda/cuda:0}"
  python3 -m iaug.cli.report --exp_dir "$exp_dir" --data_dir "$data_dir"
  cat "$exp_dir/results.md"
fi

if run_stage 9; then
  train train_recognizer.py $hp/sb_augment.yaml sb_augment
  train train_recognizer.py $hp/specaugment.yaml specaugment
  train train_recognizer.py $hp/importantaug_specaugment.yaml importantaug_specaugment
fi
