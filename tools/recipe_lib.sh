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
