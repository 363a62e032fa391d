#!/usr/bin/env bash
# Does ImportantAug win? Every row of the comparison, several seeds, one report.
#
# The rows (systems) are benchmark_rows.yaml's: what each trains from and how
# it is chosen on dev; adding a row is one entry there. Per seed and front-end
# (paper: raw dB; stable: floored dB, input normalised) one self-contained
# run: the baseline from scratch, then every arm from that baseline and the
# generator against it, each until its dev loss has not improved for
# `patience` epochs, at most `number_of_epochs`: hparams/presets/bench.yaml,
# at most 3 epochs and patience 1 for every arm and the generator (the
# baseline: 8 epochs, as in demo). Why: on the demo corpus (13,440 training
# clips) an epoch takes ~65 s at the baseline's ~214 utt/s on 2 cores and
# ~95 s for the generator-using arms (~140 utt/s; RESULTS.md "Training
# speed"), so one epoch of every system of both front-ends is ~32 min, the
# baselines and scoring ~25 min: with 3 epochs at most one seed takes about
# 2 h in the worst case (under the 2.5 h a run may have), 1 h 45 min when
# arms stop after 2-3 (measured epochs per arm: seed.json and the report).
# Dev choices (noise SNR, stage-B SNR incl. the paper's -12.5 dB, Binarized
# q) are made both on the clean dev set (the paper's) and on clean + noisy
# dev (dev clips mixed with the training noise types at the test SNRs); the
# rows use the latter, the `*_cleandev` rows the former. Every row is scored
# on every test set. A finished seed's decisions go to
# results/benchmark/<frontend>/seed<N>/ (commit them: small files; exp/ need
# not survive), and the report is remade from every committed seed:
#
#   ./benchmark.sh --seeds 6 --nj 2     # one more seed: both front-ends side
#                                       # by side, one thread each (~2 h, 2 cores)
#   python3 -m iaug.benchmark.report results/benchmark   # the report, from the commits alone
#   ./benchmark.sh --preset tiny --seeds 1 --results_dir /tmp/r   # smoke test (CI)
#
# The multi-condition variant (--snr_range "[low, high]"; the change RESULTS.md
# names to try next): stage A and stage B draw one SNR per utterance from the
# range, and so do the rows that ImportantAug is matched against (`multi:` in
# benchmark_rows.yaml): the seed's baseline (the same bytes as in the main
# protocol), conventional noise (the same noise without the mask; Null
# ImportantAug would be this very row) and ImportantAug; no dev choice (the
# range is the setting). Committed apart, in results/benchmark_multi/:
#
#   ./benchmark.sh --snr_range "[-12.5, 15]" --seeds 1 --frontends paper --nj 1
#
# A rerun of a seed (same processor instruction set, same --nthreads, default
# 1) rewrites the same bytes; the collection names any committed file that
# changed (and the corpus build or CPU kernels, timing.json, if those differ).
# A stopped run, rerun with the same --bench_dir, trains only what is left;
# its timing.json says "resumed" (the run time is the last part's only).
# Then commit results/benchmark/ (decisions.csv.gz, seed.json, timing.json,
# importance_maps.png per front-end: ~0.2 MB a seed; report.md, *_snr.png).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

corpus=synth    # synth | gsc
preset=demo     # corpus size (tiny | demo | paper)
seeds="1 2 3"   # the seeds, each a run of its own per front-end
data_dir=""     # default: data/<corpus>
bench_dir=""    # experiment folders, rerun to resume (default: exp/benchmark[_multi]_<corpus>_<preset>)
device=cpu      # cpu | cuda | cuda:N
nj=1            # runs (seed x front-end) at once, each in <bench_dir>/seed<N>_<frontend>.log
frontends="paper stable"  # the front-ends, each a run of its own per seed
train_preset="" # training preset (default: hparams/presets/bench.yaml for demo, bench_<preset>.yaml)
results_dir=""  # committed results (default: results/benchmark[_multi], + _<corpus>_<preset> unless synth demo)
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
variant=""
if [ -n "$snr_range" ]; then
  python3 -c 'import sys, yaml; from iaug.hparams import snr_range; snr_range(yaml.safe_load(sys.argv[1]))' \
    "$snr_range" 2>/dev/null || die "--snr_range is [low, high] in dB with low <= high (got '$snr_range')"
  variant=_multi
fi
[ -n "$bench_dir" ] || bench_dir=exp/benchmark${variant}_${corpus}_${preset}
if [ -z "$train_preset" ]; then
  train_preset=bench_$preset; [ "$preset" = demo ] && train_preset=bench
fi
[ -f "hparams/presets/$train_preset.yaml" ] || die "no training preset hparams/presets/$train_preset.yaml (--train_preset)"
if [ -z "$results_dir" ]; then
  results_dir=results/benchmark${variant}_${corpus}_$preset
  [ "$corpus/$preset" = synth/demo ] && results_dir=results/benchmark$variant
fi
[ -n "$frontends" ] || die "--frontends names at least one front-end"
for fe in $frontends; do
  case "$fe" in paper|stable) ;; *) die "--frontends are paper and/or stable (got '$fe')" ;; esac
done
mkdir -p "$results_dir" 2>/dev/null || die "cannot write to --results_dir $results_dir"
# the rows, one line each: ROW ARM KIND ARGS (python3 -m iaug.benchmark.rows --help)
rows_file=benchmark_rows.yaml
specs=$(python3 -m iaug.benchmark.rows "$rows_file" ${snr_range:+--multi})
mapfile -t specs <<< "$specs"
rows=("${specs[@]%% *}")

common=(--corpus "$corpus" --preset "$preset" --data_dir "$data_dir" --device "$device")
./run.sh "${common[@]}" --stop_stage 1 --exp_dir "$bench_dir/data_stages"

# The training and scoring helpers of run.sh (tools/recipe_lib.sh), at the benchmark's settings
preset=$train_preset preset_file=hparams/presets/$train_preset.yaml
manifests=$data_dir/manifests
data_args=(--data_dir "$data_dir")
ngpu=0 nnodes=1 node_rank=0 rdzv_endpoint="" precision=fp32
torch_device=$device; [ "$device" = cuda ] && torch_device=cuda:0
stage=0 stop_stage=0 stage_now=benchmark
export OMP_NUM_THREADS=$nthreads MKL_NUM_THREADS=$nthreads
. "$root/tools/recipe_lib.sh"

test_sets=("$manifests/test.csv")
for f in "$manifests"/noisy/*.csv; do [ -e "$f" ] && test_sets+=("$f"); done
if [ -z "$snr_range" ]; then
  log "noisy dev set (dev clips + training noise types) -> $bench_dir/noisy_dev"
  read -r -a noisy_dev < <(python3 -m iaug.benchmark.noisy_dev --data_dir "$data_dir" \
    --out "$bench_dir/noisy_dev" | tail -n 1)
  [ ${#noisy_dev[@]} -gt 0 ] || die "no noisy dev set made"
fi

bench_seed() {  # bench_seed seed<N>_<frontend>: one seed on one front-end, self-contained
  local item=$1 seed fe t0=$SECONDS line row arm kind
  seed=${item%%_*}; seed=${seed#seed}; fe=${item#*_}
  local exp_dir=$bench_dir/$fe/seed$seed out=$results_dir/$fe/seed$seed
  local -a train_extra snr
  mapfile -t train_extra < <(frontend_overrides "$fe")
  mkdir -p "$exp_dir"
  local resumed="" done0  # systems finished before this run: a stopped run it resumes
  done0=$(find "$exp_dir" -maxdepth 2 -name .done | wc -l)
  log "seed $seed, front-end $fe -> $exp_dir"
  train train_recognizer.py hparams/baseline.yaml baseline
  train train_generator.py hparams/generator.yaml generator ${snr_range:+--snr_db "$snr_range"}
  if [ -n "$snr_range" ]; then  # multi-condition: one SNR per utterance in the range, everywhere
    for line in "${specs[@]}"; do
      read -r row arm kind <<< "$line"
      snr=(); [ "$kind" != range ] || snr=(--snr_db "$snr_range")
      [ "$row" = baseline ] || train train_recognizer.py "hparams/$arm.yaml" "$row" ${snr[@]+"${snr[@]}"}
    done
  else
    main_rows
  fi

  # a stopped run resumed (not a rerun of a collected seed that trained nothing):
  # its wall time is the last part's only
  [ "$done0" -eq 0 ] || { [ -f "$out/timing.json" ] &&
    [ "$(find "$exp_dir" -maxdepth 2 -name .done | wc -l)" -eq "$done0" ]; } || resumed=--resumed
  log "seed $seed, $fe: every row on every test set -> $exp_dir/results.csv"
  python3 -m iaug.cli.evaluate --exp_dir "$exp_dir" --system "${rows[@]}" --manifest "${test_sets[@]}" \
    --results_csv "$exp_dir/results.csv" --device "$torch_device" > "$exp_dir/evaluation.log"
  python3 -m iaug.benchmark.collect --rows "$rows_file" --exp_dir "$exp_dir" --data_dir "$data_dir" \
    --out "$out" --frontend "$fe" --seed "$seed" --preset "$preset_file" --run_wall_s $((SECONDS - t0)) \
    $resumed ${snr_range:+--snr_range "$snr_range"}
  log "seed $seed, $fe: finished"
}

main_rows() {  # the main protocol's rows (bench_seed's locals): systems, dev choices, links
  local line row arm kind a b c d value name
  local -a all=() sweep table
  local -A cands=()  # arm: its sweep's systems
  for line in "${specs[@]}"; do  # every sweep's candidates, every system trained as it is
    read -r row arm kind a b c d <<< "$line"
    case $kind in
      train) [ "$row" = baseline ] || train train_recognizer.py "hparams/$arm.yaml" "$row" ;;
      choose)  # dev set a; the sweep: option b over the hparams list c, systems <arm>_<d><value>
        [ -z "${cands[$arm]+x}" ] || continue
        cands[$arm]=""
        for value in $(setting "hparams/$arm.yaml" "$c"); do
          train train_recognizer.py "hparams/$arm.yaml" "${arm}_$d$value" --"$b" "$value"
          cands[$arm]+=" ${arm}_$d$value"
          all+=("${arm}_$d$value")
        done ;;
      set) train train_recognizer.py "hparams/$arm.yaml" "$c" --"$a" "$b" ;;  # option a at b: system c
    esac
  done

  log "seed $seed, $fe: dev choices, on clean dev (the paper's) and on clean + noisy dev"
  python3 -m iaug.cli.evaluate --exp_dir "$exp_dir" --system "${all[@]}" \
    --manifest "$manifests/dev.csv" "${noisy_dev[@]}" --results_csv "$exp_dir/dev_results.csv" \
    --device "$torch_device" > "$exp_dir/dev_eval.log"
  for line in "${specs[@]}"; do  # the chosen systems, then the rows trained at a choice
    read -r row arm kind a b c d <<< "$line"
    case $kind in
      choose)
        sweep=(); for name in ${cands[$arm]}; do sweep+=("$exp_dir/$name"); done
        table=(); [ "$a" = clean ] || table=(--table "$exp_dir/dev_results.csv")
        python3 -m iaug.scoring select ${table[@]+"${table[@]}"} "$exp_dir/$row" "${sweep[@]}" \
          | sed "s/^/  $row, $a dev: /" ;;
      set) ln -sfn "$c" "$exp_dir/$row" ;;
      like)  # option a at the value chosen for row b, whose system is <c><value>
        value=$(basename "$(readlink "$exp_dir/$b")")
        train train_recognizer.py "hparams/$arm.yaml" "$row" --"$a" "${value#"$c"}" ;;
    esac
  done
}

items=()
for s in $seeds; do for fe in $frontends; do items+=("seed${s}_$fe"); done; done
foreach "$nj" "$bench_dir/" bench_seed "${items[@]}"
python3 -m iaug.benchmark.report "$results_dir" --rows "$rows_file" > /dev/null
log "report: $results_dir/report.md"
