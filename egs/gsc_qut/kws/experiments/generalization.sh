#!/usr/bin/env bash
# An experiment, not part of the recipe: does what the demo baseline learns
# from the synth corpus carry to voices and recording conditions it never saw?
# (RESULTS.md, "Generalisation of the synth corpus".)
#
#   experiments/generalization.sh                 # about an hour on 2 cores
#   experiments/generalization.sh --frontends paper --chains new
#   experiments/generalization.sh --frontends stable --chains wide   # ~25 min
#   experiments/generalization.sh --frontends stable --chains "wide wider" --nj 1
#
# Corpora in <work>/data/ (configs from experiments/generalization.py):
#   old_train, new_train      the demo corpus without the held-out accents and
#                             variants (and, new: without the held-out conditions)
#   old_heldout, new_heldout  1,400 clips of other speakers with ONLY those
#                             (new: in the held-out rooms, backgrounds, channels)
#   new_heldout_{voices,room,background,channel}   which condition costs what:
#                             the held-out voices in the training conditions,
#                             then with one held-out stage each
#   new_heldout_conditions    the control: the training voices (other speakers)
#                             in all the held-out conditions
#   wide_train                (--chains wide) the demo corpus without the held-out
#                             voices, in the demo's own conditions; scored on new_*
#   wider_train               (--chains wider) wide_train with random band limits and
#                             rooms up to RT60 1.0 s (generalization.py WIDER)
#   the recordings of people  (IAUG_REAL_SPEECH_DIR, default ../shared/data/fsdd, when
#                             there): people saying the digits, scored as a folder
# A demo baseline (run.sh stage 2) per training corpus and front-end, each
# scored on its own test set and on every held-out corpus (all its clips).
set -euo pipefail
cd "$(dirname "$0")/.."   # the recipe's folder: hparams/, run.sh, exp/
root=$(cd ../../.. && pwd)

work=exp/generalization
chains="old new"
frontends="paper stable"
nj=2              # data processes; baselines trained at once (one thread each)
seed=1
. "$root/tools/parse_options.sh"
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
log() { echo "$(date '+%F %T') [generalization] $*"; }

python3 experiments/generalization.py configs "$work/configs"
build() {  # build CORPUS: <work>/data/CORPUS from <work>/configs/CORPUS.yaml
  log "corpus $1 -> $work/data/$1"
  python3 local/prepare_data.py download --corpus synth --preset demo --data_dir "$work/data/$1" \
    --nj "$nj" --config "$work/configs/$1.yaml"
  python3 local/prepare_data.py manifests --data_dir "$work/data/$1"
}
for chain in $chains; do build "${chain}_train"; done
heldout=()   # every held-out corpus, scored whole: its three splits in one manifest
mapfile -t corpora < <(python3 experiments/generalization.py heldout $chains)
for line in "${corpora[@]}"; do
  read -r corpus name <<< "$line"
  build "$corpus"
  m=$work/data/$corpus/manifests
  python3 experiments/generalization.py concat "$m/$name.csv" "$m/"{train,dev,test}.csv
  heldout+=("$m/$name.csv")
done
real=${IAUG_REAL_SPEECH_DIR:-$root/../shared/data/fsdd}  # recordings of people, optional
[ -d "$real" ] || log "no $real: no column of recordings of people (IAUG_REAL_SPEECH_DIR)"

train_one() {  # train_one CHAIN:FRONTEND
  local chain=${1%:*} frontend=${1#*:}
  ./run.sh --corpus synth --preset demo --data_dir "$work/data/${chain}_train" \
    --exp_dir "$work/${chain}_$frontend" --frontend "$frontend" --seed "$seed" \
    --stage 2 --stop_stage 2
}
jobs=()
for chain in $chains; do for frontend in $frontends; do jobs+=("$chain:$frontend"); done; done
. "$root/tools/recipe_lib.sh"
foreach "$nj" "$work/train_" train_one "${jobs[@]}"

tables=()
for job in "${jobs[@]}"; do
  chain=${job%:*} frontend=${job#*:} exp=$work/${job/:/_}
  python3 -m iaug.cli.evaluate --exp_dir "$exp" --system baseline \
    --manifest "$work/data/${chain}_train/manifests/test.csv" "${heldout[@]}" \
    --results_csv "$exp/generalization.csv" > "$exp/generalization_eval.log"
  if [ -d "$real" ]; then
    python3 -m iaug.cli.evaluate --exp_dir "$exp" --system baseline --data_dir "$real" \
      --results_csv "$exp/generalization.csv" --append >> "$exp/generalization_eval.log"
  fi
  tables+=("$chain corpus, $frontend front-end=$exp/generalization.csv")
done
python3 experiments/generalization.py table "${tables[@]}" | tee "$work/generalization.md"
