#!/usr/bin/env bash
# Does ImportantAug win? Every row of the comparison, several seeds, one report.
#
# Per seed and front-end (paper:
# raw dB; stable: floored dB, input normalised) one self-contained run: the
# baseline from scratch, then every arm from that baseline and the generator
# against it, each until its dev loss has not improved for `patience` epochs,
# at most `number_of_epochs`: hparams/presets/bench.yaml, at most 3 epochs and
# patience 1 for every arm and the generator (the baseline: 8 epochs, as in
# demo). Why: on the demo corpus (13,440 training clips) an epoch takes ~65 s
# at the baseline's ~214 utt/s on 2 cores and ~95 s for the generator-using
# arms (~140 utt/s; RESULTS.md "Training speed"), so one epoch of every
# system of both front-ends is ~32 min, the baselines and scoring ~25 min:
# with 3 epochs at most one seed takes about 2 h in the worst case (under
# the 2.5 h a run may have), 1 h 45 min when arms stop after 2-3 (measured
# epochs per arm: seed.json and the report). Dev choices (noise SNR, stage-B
# SNR incl. the paper's -12.5 dB, Binarized q) are made both on the clean dev
# set (the paper's) and on clean + noisy dev (dev clips mixed with the
# training noise types at the test SNRs); the rows use the latter, the
# `*_cleandev` rows the former. Every row is scored on every test set. A finished seed's
# decisions go to results/bench_v2/<frontend>/seed<N>/ (commit them: small
# files; exp/ need not survive), and the report is remade from every
# committed seed:
#
#   ./benchmark.sh --seeds 6 --nj 2     # one more seed: both front-ends side
#                                                     # by side, one thread each (~2 h, 2 cores)
#   python3 local/benchmark_v2.py report results/bench_v2   # the report, from the commits alone
#   ./benchmark.sh --preset tiny --seeds 1 --results_dir /tmp/r   # smoke test (CI)
#
# The multi-condition variant (--snr_range "[low, high]"; the change RESULTS.md
# names to try next): stage A and stage B draw one SNR per utterance from the
# range, and so does the row that ImportantAug is matched against: the seed's
# baseline (the same bytes as in the main protocol), conventional noise (the
# same noise without the mask; Null ImportantAug would be this very row) and
# ImportantAug; no dev choice (the range is the setting). Committed apart, in
# results/bench_v2_multi/:
#
#   ./benchmark.sh --snr_range "[-12.5, 15]" --seeds 1 --frontends paper --nj 1
#
# A rerun of a seed (same processor instruction set, same --nthreads, default
# 1) rewrites the same bytes; `collect` names any committed file that changed
# (and the corpus build or CPU kernels, timing.json, if those differ).
# A stopped run, rerun with the same --bench_dir, trains only what is left;
# its timing.json says "resumed" (the run time is the last part's only).
# Then commit results/bench_v2/ (decisions.csv.gz, seed.json, timing.json,
# importance_maps.png per front-end: ~0.2 MB a seed; report.md, *_snr.png).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

corpus=synth
preset=demo     # corpus size (tiny | demo | paper)
seeds="1 2 3"
data_dir=""
bench_dir=""
device=cpu
nj=1            # runs (seed x front-end) at once, --nthreads torch threads each
                # (logs in <bench_dir>/seed<N>[_<frontend>].log)
frontends="paper stable"  # the front-ends, each a run of its own per seed
train_preset="" # training preset (default: hparams/presets/bench.yaml for demo, bench_<preset>.yaml)
results_dir=""  # committed results (default: results/bench_v2 for synth demo,
                # results/bench_v2_<corpus>_<preset> otherwise)
nthreads=1      # torch threads per process (the same bytes need the same number)
snr_range=""    # "[low, high]": the multi-condition variant (above)
. "$root/tools/parse_options.sh"
die() { echo "$(basename "$0"): $*" >&2; exit 1; }
[[ $nj =~ ^[1-9][0-9]*$ ]] || die "--nj is a positive number (got '$nj')"
[[ $nthreads =~ ^[1-9][0-9]*$ ]] || die "--nthreads is a positive number (got '$nthreads')"
[ -n "$seeds" ] || die "--seeds names at least one seed"
for s in $seeds; do [[ $s =~ ^[0-9]+$ ]] || die "--seeds are whole numbers (got '$s')"; done
[ -n "$data_dir" ] || data_dir=data/$corpus
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
variant=v2
if [ -n "$snr_range" ]; then
  python3 -c 'import sys, yaml; from iaug.mixing import snr_range; snr_range(yaml.safe_load(sys.argv[1]))' \
    "$snr_range" 2>/dev/null || die "--snr_range is [low, high] in dB with low <= high (got '$snr_range')"
  variant=v2_multi
fi
[ -n "$bench_dir" ] || bench_dir=exp/bench_${variant}_${corpus}_${preset}
if [ -z "$train_preset" ]; then
  train_preset=bench_$preset; [ "$preset" = demo ] && train_preset=bench
fi
[ -f "hparams/presets/$train_preset.yaml" ] || die "no training preset hparams/presets/$train_preset.yaml (--train_preset)"
if [ -z "$results_dir" ]; then
  results_dir=results/bench_${variant}_${corpus}_$preset
  [ "$corpus/$preset" = synth/demo ] && results_dir=results/bench_$variant
fi
[ -n "$frontends" ] || die "--frontends names at least one front-end"
for fe in $frontends; do
  case "$fe" in paper|stable) ;; *) die "--frontends are paper and/or stable (got '$fe')" ;; esac
done
mkdir -p "$results_dir" 2>/dev/null || die "cannot write to --results_dir $results_dir"

common=(--corpus "$corpus" --preset "$preset" --data_dir "$data_dir" --device "$device")
./run.sh "${common[@]}" --stop_stage 1 --exp_dir "$bench_dir/data_stages"
. local/benchmark_v2.sh
