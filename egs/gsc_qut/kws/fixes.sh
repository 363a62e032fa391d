#!/usr/bin/env bash
# ImportantAug did not win the benchmark (RESULTS.md). The measurements point
# at the noise level (-12.5 dB costs clean accuracy: Null ImportantAug loses
# as much) and at an undertrained generator (its dev loss was still falling
# after 3 epochs). This script tries both fixes on finished benchmark seeds
# and, for each seed, chooses among them on dev, never on test:
#
#   ./fixes.sh --seeds "1 2 3" --nj 3     # after ./benchmark.sh --seeds "1 2 3"
#
# In each <bench_dir>/seed<N>/, next to that seed's benchmark rows:
#   importantaug_snr<S>        stage B at the SNRs conventional noise chooses
#                              from (--snrs; the paper's -12.5 dB is the
#                              benchmark's `importantaug`)
#   importantaug_snrdev        -> the one with the lowest dev error
#   generator_ep<E>            stage A for --gen_epochs epochs, resumed from the
#                              seed's 3-epoch generator
#   importantaug_gen<E>_snr<S> stage B with it, at -12.5 dB and at the SNR above
#   generator_snr<G>           stage A at the stage-B SNR chosen above (--gen_snr),
#                              as long as the benchmark's generator: the mask is
#                              learnt for the noise level it is applied at
#   importantaug_gensnr<G>     stage B with it, at <G> dB
#   importantaug_fixed         -> the variant with the lowest dev error
# then scores every variant on every test set (<bench_dir>/seed<N>/fixes.csv)
# and writes <bench_dir>/fixes.md: the variants next to the benchmark rows
# (mean and 95 % CI over seeds), McNemar tests of importantaug_fixed against
# each, and what the generators learned. Rerunning skips finished systems and
# reads back the test scores of unchanged ones (iaug-eval's saved decisions).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

corpus=synth
preset=demo
seeds="1 2 3"
nj=1              # seeds at once (one CPU thread each; logs in <bench_dir>/fixes_seed<N>.log)
snrs=""           # stage-B SNR candidates besides the paper's -12.5 dB
                  # (default: conventional noise's, hparams/noise.yaml + preset)
gen_epochs=6      # the longer stage A (the benchmark's generator trains 3)
gen_snr=""        # fix 3's stage-A SNR (default: the stage-B SNR chosen on dev;
                  # none when that is the paper's -12.5 dB, the benchmark's generator)
data_dir=""
bench_dir=""
device=cpu
ngpu=0
. "$root/tools/parse_options.sh"
[ -n "$data_dir" ] || data_dir=data/$corpus
[ -n "$bench_dir" ] || bench_dir=exp/bench_${corpus}_${preset}
hp=hparams
preset_file=$hp/presets/$preset.yaml
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
train_extra=()
stage=10 stop_stage=10
. "$root/tools/recipe_lib.sh"
run_stage 10
gen=generator_ep$gen_epochs
[ -n "$snrs" ] || snrs=$(python3 -m iaug.recipe $hp/noise.yaml snr_candidates "$preset_file")

choose() {  # choose LINK CANDIDATE...: LINK -> the candidate with the lowest dev error
  python3 -c 'import os, sys; from iaug.scoring import select_on_dev
print(os.path.basename(select_on_dev(sys.argv[2:], sys.argv[1])[0]))' "$@"
}

fix_seed() {
  local seed=$1 s snr best_snr chosen candidates=() variants=() systems=(importantaug_fixed)
  exp_dir=$bench_dir/seed$seed
  for s in baseline generator; do
    [ -f "$exp_dir/$s/.done" ] || { echo "fixes.sh: $exp_dir/$s is not trained: run ./benchmark.sh --seeds $seed first" >&2; return 1; }
  done

  log 10 "seed $seed, fix 1, training length: generator for $gen_epochs epochs"
  if [ ! -d "$exp_dir/$gen/save" ]; then  # resume from the 3-epoch generator's checkpoints
    mkdir -p "$exp_dir/$gen"
    cp -r "$exp_dir/generator/save" "$exp_dir/$gen/save"
  fi
  train train_generator.py $hp/generator.yaml "$gen" --number_of_epochs "$gen_epochs"

  log 10 "seed $seed, fix 2, noise level: stage B at $snrs dB besides -12.5 dB"
  candidates=("$exp_dir/importantaug")
  for snr in $snrs; do
    train train_recognizer.py $hp/importantaug.yaml importantaug_snr$snr --snr_db "$snr"
    candidates+=("$exp_dir/importantaug_snr$snr")
    systems+=(importantaug_snr$snr)
  done
  [ -f "$exp_dir/importantaug/.done" ] || { echo "fixes.sh: $exp_dir/importantaug is not trained:" \
    "run ./benchmark.sh --seeds $seed first" >&2; return 1; }
  chosen=$(choose "$exp_dir/importantaug_snrdev" "${candidates[@]}")
  best_snr=-12.5; [ "$chosen" = importantaug ] || best_snr=${chosen#importantaug_snr}
  log 10 "seed $seed: chosen on dev: $chosen (stage-B SNR $best_snr dB)"

  for snr in $(printf '%s\n' -12.5 "$best_snr" | sort -u); do
    train train_recognizer.py $hp/importantaug.yaml importantaug_gen${gen_epochs}_snr$snr \
      --snr_db "$snr" --generator_source "$exp_dir/$gen"
    variants+=(importantaug_gen${gen_epochs}_snr$snr)
    candidates+=("$exp_dir/importantaug_gen${gen_epochs}_snr$snr")
  done
  local g=${gen_snr:-$best_snr}
  if [ "$g" = -12.5 ]; then
    log 10 "seed $seed, fix 3, generator noise level: stage B keeps -12.5 dB, the benchmark's generator's"
  else
    log 10 "seed $seed, fix 3, generator noise level: stage A and B at $g dB"
    train train_generator.py $hp/generator.yaml generator_snr$g --snr_db "$g"
    train train_recognizer.py $hp/importantaug.yaml importantaug_gensnr$g \
      --snr_db "$g" --generator_source "$exp_dir/generator_snr$g"
    variants+=(importantaug_gensnr$g)
    candidates+=("$exp_dir/importantaug_gensnr$g")
  fi
  log 10 "seed $seed: chosen on dev among all variants: $(choose "$exp_dir/importantaug_fixed" "${candidates[@]}")"

  log 10 "seed $seed: evaluation of the variants -> $exp_dir/fixes.csv"
  rm -f "$exp_dir/fixes.csv"
  python3 -m iaug.cli.evaluate --exp_dir "$exp_dir" --system "${systems[@]}" "${variants[@]}" \
    --manifest "$data_dir/manifests/test.csv" $(ls "$data_dir"/manifests/noisy/*.csv) \
    --results_csv "$exp_dir/fixes.csv" --device "${device/cuda/cuda:0}" > "$exp_dir/fixes_eval.log"
}

foreach "$nj" "$bench_dir/fixes_seed" fix_seed $seeds
seed_dirs=()
for seed in $seeds; do
  [ -f "$bench_dir/seed$seed/results.csv" ] || { echo "fixes.sh: seed $seed's benchmark rows are not" \
    "scored yet ($bench_dir/seed$seed/results.csv): rerun when benchmark.sh has finished;" \
    "trained systems are kept" >&2; exit 1; }
  seed_dirs+=("seed$seed")
done
rows=(baseline noise null_importantaug importantaug)
for snr in $snrs; do rows+=(importantaug_snr$snr); done
gens=(generator "$gen")
for snr in -12.5 $snrs; do rows+=(importantaug_gen${gen_epochs}_snr$snr); done
for snr in $(printf '%s\n' $gen_snr $snrs | awk '!seen[$0]++'); do
  rows+=(importantaug_gensnr$snr)
  gens+=(generator_snr$snr)
done
python3 local/benchmark.py --bench_dir "$bench_dir" --data_dir "$data_dir" --seeds "${seed_dirs[@]}" \
  --results results.csv fixes.csv --name fixes --focus importantaug_fixed \
  --generators "${gens[@]}" --rows "${rows[@]}" importantaug_fixed
