#!/usr/bin/env bash
# Shared by the recipes' run.sh, sourced after their options are parsed. Needs
# root, exp_dir, data_dir, preset, preset_file, ngpu, device; optional: seed,
# and train_extra (an array of overrides every training gets).

log() { echo "$(date '+%F %T') [stage $1] ${*:2}"; }

run_stage() { stage_now=$1; [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }

train() {  # train SCRIPT HPARAMS SYSTEM [overrides...]: skips a finished system
  local script=$1 hparams=$2 system=$3; shift 3
  if [ -f "$exp_dir/$system/.done" ]; then log "$stage_now" "$system: done, skipping"; return; fi
  local launcher=(python3)
  if [ "$ngpu" -gt 1 ]; then
    local backend=gloo; [ "$device" = cuda ] && backend=nccl
    launcher=(torchrun --standalone --nproc_per_node "$ngpu")
    set -- "$@" --distributed_backend "$backend"
  fi
  if [ "$device" = cuda ] && [ "$ngpu" -le 1 ]; then set -- "$@" --device cuda:0; fi
  if [ -n "${seed:-}" ]; then set -- "$@" --seed "$seed"; fi
  log "$stage_now" "training $system ($hparams, preset $preset)"
  "${launcher[@]}" "$root/recipes/$script" "$hparams" --preset "$preset_file" \
    --data_dir "$data_dir" --exp_dir "$exp_dir" --output_folder "$exp_dir/$system" \
    "${train_extra[@]}" "$@"
  touch "$exp_dir/$system/.done"
}

foreach() {  # foreach NJ LOG_PREFIX FUNCTION ITEM...: FUNCTION ITEM for each ITEM.
  # NJ > 1: up to NJ at once in the background, one CPU thread each (these
  # small convolutions scale badly with threads), output in LOG_PREFIX<ITEM>.log
  local nj=$1 prefix=$2 fn=$3 item failed=0; shift 3
  if [ "$nj" -le 1 ]; then
    for item in "$@"; do "$fn" "$item"; done
    return
  fi
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  for item in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$nj" ]; do wait -n || failed=1; done
    echo "$(date '+%F %T') $fn $item in the background: tail -f $prefix$item.log"
    "$fn" "$item" > "$prefix$item.log" 2>&1 &
  done
  while [ -n "$(jobs -rp)" ]; do wait -n || failed=1; done
  [ "$failed" = 0 ] || { echo "$fn failed for one of: $*; see $prefix*.log" >&2; return 1; }
}
