# The benchmark's runs (sourced by benchmark.sh after the data stages; see its
# header). Needs: root, corpus, preset, data_dir, bench_dir, device, nj,
# nthreads, seeds, frontends, train_preset, results_dir, snr_range (empty: the
# main protocol; "[low, high]": the multi-condition variant).

preset=$train_preset preset_file=hparams/presets/$train_preset.yaml
manifests=$data_dir/manifests
data_args=(--data_dir "$data_dir")
ngpu=0 nnodes=1 node_rank=0 rdzv_endpoint="" precision=fp32
torch_device=$device; [ "$device" = cuda ] && torch_device=cuda:0
stage=0 stop_stage=0 stage_now=v2
export OMP_NUM_THREADS=$nthreads MKL_NUM_THREADS=$nthreads
. "$root/tools/recipe_lib.sh"

# the rows, as ROWS (MULTI_ROWS) in local/benchmark_v2.py
rows=(baseline noise noise_cleandev sb_augment specaugment null_importantaug importantaug
      importantaug_cleandev importantaug_paper binarized binarized_cleandev importantaug_specaugment)
[ -z "$snr_range" ] || rows=(baseline noise importantaug)
test_sets=("$manifests/test.csv")
for f in "$manifests"/noisy/*.csv; do [ -e "$f" ] && test_sets+=("$f"); done

if [ -z "$snr_range" ]; then
  log "noisy dev set (dev clips + training noise types) -> $bench_dir/noisy_dev"
  read -r -a noisy_dev < <(python3 local/benchmark_v2.py noisy_dev --data_dir "$data_dir" \
    --out "$bench_dir/noisy_dev" | tail -n 1)
  [ ${#noisy_dev[@]} -gt 0 ] || die "no noisy dev set made"
fi

# candidates NAME KEY LIST TAG: train one system NAME_<TAG><value> per value
# of LIST (hparams/NAME.yaml after the preset); their names go to cands_<NAME>
candidates() {
  local name=$1 key=$2 list=$3 tag=$4 value
  local -n out=cands_$name
  out=()
  for value in $(setting "hparams/$name.yaml" "$list"); do
    train train_recognizer.py "hparams/$name.yaml" "${name}_$tag$value" --"$key" "$value"
    out+=("${name}_$tag$value")
  done
}

v2_run() {  # v2_run seed<N>_<frontend>: one seed on one front-end, self-contained
  local item=$1 seed fe t0=$SECONDS name
  seed=${item%%_*}; seed=${seed#seed}; fe=${item#*_}
  local exp_dir=$bench_dir/$fe/seed$seed out=$results_dir/$fe/seed$seed
  local -a train_extra cands_noise cands_importantaug cands_binarized all
  mapfile -t train_extra < <(frontend_overrides "$fe")
  mkdir -p "$exp_dir"
  local resumed="" done0  # systems finished before this run: a stopped run it resumes
  done0=$(find "$exp_dir" -maxdepth 2 -name .done | wc -l)
  log "seed $seed, front-end $fe -> $exp_dir"
  train train_recognizer.py hparams/baseline.yaml baseline
  if [ -n "$snr_range" ]; then  # multi-condition: one SNR per utterance in the range, everywhere
    train train_generator.py hparams/generator.yaml generator --snr_db "$snr_range"
    for name in noise importantaug; do
      train train_recognizer.py "hparams/$name.yaml" "$name" --snr_db "$snr_range"
    done
  else
    v2_rows
  fi

  # a stopped run resumed (not a rerun of a collected seed that trained nothing):
  # its wall time is the last part's only
  [ "$done0" -eq 0 ] || { [ -f "$out/timing.json" ] &&
    [ "$(find "$exp_dir" -maxdepth 2 -name .done | wc -l)" -eq "$done0" ]; } || resumed=--resumed
  log "seed $seed, $fe: every row on every test set -> $exp_dir/results.csv"
  python3 -m iaug.cli.evaluate --exp_dir "$exp_dir" --system "${rows[@]}" --manifest "${test_sets[@]}" \
    --results_csv "$exp_dir/results.csv" --device "$torch_device" > "$exp_dir/evaluation.log"
  python3 local/benchmark_v2.py collect --exp_dir "$exp_dir" --data_dir "$data_dir" --out "$out" \
    --frontend "$fe" --seed "$seed" --preset "$preset_file" --run_wall_s $((SECONDS - t0)) $resumed \
    ${snr_range:+--snr_range "$snr_range"}
  log "seed $seed, $fe: finished"
}

v2_rows() {  # the main protocol's systems, dev choices and links (v2_run's locals)
  candidates noise snr_db snr_candidates snr
  train train_generator.py hparams/generator.yaml generator
  candidates importantaug snr_db snr_candidates snr
  if [[ " ${cands_importantaug[*]} " != *" importantaug_snr-12.5 "* ]]; then  # the paper's row
    train train_recognizer.py hparams/importantaug.yaml importantaug_snr-12.5 --snr_db -12.5
  fi
  train train_recognizer.py hparams/null_importantaug.yaml null_importantaug
  candidates binarized q q_candidates q
  train train_recognizer.py hparams/sb_augment.yaml sb_augment
  train train_recognizer.py hparams/specaugment.yaml specaugment

  log "seed $seed, $fe: dev choices, on clean dev (the paper's) and on clean + noisy dev"
  all=("${cands_noise[@]}" "${cands_importantaug[@]}" "${cands_binarized[@]}")
  python3 -m iaug.cli.evaluate --exp_dir "$exp_dir" --system "${all[@]}" \
    --manifest "$manifests/dev.csv" "${noisy_dev[@]}" --results_csv "$exp_dir/dev_results.csv" \
    --device "$torch_device" > "$exp_dir/dev_eval.log"
  for name in noise importantaug binarized; do
    local -n c=cands_$name
    python3 -m iaug.scoring select "$exp_dir/${name}_cleandev" "${c[@]/#/$exp_dir/}" | sed "s/^/  $name, clean dev: /"
    python3 -m iaug.scoring select --table "$exp_dir/dev_results.csv" "$exp_dir/$name" "${c[@]/#/$exp_dir/}" \
      | sed "s/^/  $name, clean+noisy dev: /"
    unset -n c
  done
  ln -sfn importantaug_snr-12.5 "$exp_dir/importantaug_paper"
  name=$(basename "$(readlink "$exp_dir/importantaug")")
  train train_recognizer.py hparams/importantaug_specaugment.yaml importantaug_specaugment \
    --snr_db "${name#importantaug_snr}"
}

items=()
for s in $seeds; do for fe in $frontends; do items+=("seed${s}_$fe"); done; done
foreach "$nj" "$bench_dir/" v2_run "${items[@]}"
python3 local/benchmark_v2.py report "$results_dir" > /dev/null
log "report: $results_dir/report.md"
