#!/usr/bin/env bash
# An experiment, not part of the recipe: does what the demo baseline learns
# from the synth corpus carry to voices and recording conditions it never saw?
# (RESULTS.md, "Generalisation of the synth corpus".)
#
#   experiments/generalization.sh                 # about an hour on 2 cores
#   experiments/generalization.sh --frontends paper --chains new
#
# Four corpora in <work>/data/ (configs from experiments/generalization.py):
#   old_train, new_train      the demo corpus without the held-out accents and
#                             variants (and, new: without the held-out conditions)
#   old_heldout, new_heldout  1,400 clips of other speakers with ONLY those
#                             (new: in the held-out rooms, backgrounds, channels)
# A demo baseline (run.sh stage 2) per training corpus and front-end, each
# scored on its own test set and on both held-out corpora (all their clips).
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
for chain in $chains; do
  for part in train heldout; do
    data=$work/data/${chain}_$part
    log "corpus $chain/$part -> $data"
    python3 local/prepare_data.py download --corpus synth --preset demo --data_dir "$data" \
      --nj "$nj" --config "$work/configs/${chain}_$part.yaml"
    python3 local/prepare_data.py manifests --data_dir "$data"
  done
  # the held-out corpus is scored whole: its three splits in one manifest
  python3 experiments/generalization.py concat "$work/data/${chain}_heldout/manifests/heldout_$chain.csv" \
    "$work/data/${chain}_heldout/manifests/"{train,dev,test}.csv
done

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
  heldout=()
  for c in $chains; do heldout+=("$work/data/${c}_heldout/manifests/heldout_$c.csv"); done
  python3 -m iaug.cli.evaluate --exp_dir "$exp" --system baseline \
    --manifest "$work/data/${chain}_train/manifests/test.csv" "${heldout[@]}" \
    --results_csv "$exp/generalization.csv" > "$exp/generalization_eval.log"
  tables+=("$chain corpus, $frontend front-end=$exp/generalization.csv")
done
python3 experiments/generalization.py table "${tables[@]}" | tee "$work/generalization.md"
