#!/usr/bin/env bash
# Does ImportantAug win? Every row of the comparison, several seeds, one report.
#
#   ./benchmark.sh --preset demo --seeds "1 2 3" --nj 3   # 2-core CPU: resumable, see RESULTS.md
#   ./benchmark.sh --preset tiny --seeds 1           # smoke test (CI)
#
# Per seed, run.sh trains in <bench_dir>/seed<N>/: baseline, conventional noise
# (SNR on dev), generator, ImportantAug (our generator and the authors'),
# Null, Binarized (q on dev), SpeechBrain-style augmentation, SpecAugment-style
# masking, ImportantAug + masking; then scores all on every test set.
# local/benchmark.py aggregates: mean and 95 % CI, relative reductions,
# McNemar tests, what the generator learned. Rerunning resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

corpus=synth
preset=demo
seeds="1 2 3"
data_dir=""
bench_dir=""
device=cpu
nj=1            # seeds trained at once (one CPU thread each; logs in <bench_dir>/seed<N>.log)
authors_ckpt="" # the authors' checkpoint (default: run.sh's, ../shared/reference beside the repo)
. "$root/tools/parse_options.sh"
[ -n "$data_dir" ] || data_dir=data/$corpus
[ -n "$bench_dir" ] || bench_dir=exp/bench_${corpus}_${preset}
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}

common=(--corpus "$corpus" --preset "$preset" --data_dir "$data_dir" --device "$device")
./run.sh "${common[@]}" --stop_stage 1 --exp_dir "$bench_dir/data_stages"

run_seed() {
  local seed=$1 exp=$bench_dir/seed$1
  mkdir -p "$exp"
  echo "$(date '+%F %T') [benchmark] seed $seed -> $exp"
  ./run.sh "${common[@]}" --exp_dir "$exp" --seed "$seed" --stage 2 --stop_stage 8 \
    --authors_generator true --peers true ${authors_ckpt:+--authors_ckpt "$authors_ckpt"}
  ./run.sh "${common[@]}" --exp_dir "$exp" --seed "$seed" --stage 9 --stop_stage 9 > "$exp/evaluation.log"
  echo "$(date '+%F %T') [benchmark] seed $seed finished"
}

. "$root/tools/recipe_lib.sh"
foreach "$nj" "$bench_dir/seed" run_seed $seeds
python3 local/benchmark.py --bench_dir "$bench_dir" --data_dir "$data_dir"
