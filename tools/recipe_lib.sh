#!/usr/bin/env bash
# The helpers of every recipe's run.sh, sourced after its options are parsed.
# Needs: root, exp_dir, preset, preset_file, ngpu, nnodes, node_rank,
# rdzv_endpoint, device, stage, stop_stage, nthreads, manifests; data_args
# (the overrides naming the recipe's data, e.g. --data_dir DIR); optional:
# seed, train_extra (overrides every training gets), jobs (systems of a
# sweep side by side; default auto).

log() { echo "$(date '+%F %T') [stage $stage_now] $*"; }

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# setup_run LAST_STAGE DATA_STAGES: checks the options and folders before any
# work, creates exp_dir, and pins the torch threads of every process
setup_run() {
  check_stages "$1"
  if [ "$nthreads" = auto ]; then  # the cores this process may use, shared by the ranks
    nthreads=$(( $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) / (ngpu > 1 ? ngpu : 1) ))
    [ "$nthreads" -ge 1 ] || nthreads=1
  fi
  [[ $nthreads =~ ^[1-9][0-9]*$ ]] || die "--nthreads is auto or a positive number (got '$nthreads')"
  # Results repeat bit for bit only with the same number of threads (float
  # sums in another order): it is a recipe setting, not the environment's.
  export OMP_NUM_THREADS=$nthreads MKL_NUM_THREADS=$nthreads
  check_device
  case "$precision" in
    fp32|bf16) ;;
    fp16) [ "$torch_device" != cpu ] || die "--precision fp16 needs a GPU (on the CPU: bf16)"
          [ "${fp16_ok:-true}" = true ] || die "--precision fp16: this recipe's features overflow half precision (use bf16)" ;;
    *) die "--precision is fp32, bf16 or fp16 (got '$precision')" ;;
  esac
  [[ $nnodes =~ ^[1-9][0-9]*$ ]] || die "--nnodes is a positive number (got '$nnodes')"
  if [ "$nnodes" -gt 1 ]; then
    [ "$ngpu" -ge 1 ] || die "--nnodes $nnodes needs --ngpu N (processes per node)"
    [[ $node_rank =~ ^[0-9]+$ ]] && [ "$node_rank" -lt "$nnodes" ] || \
      die "--node_rank is 0 to $((nnodes - 1)) (got '$node_rank')"
    [[ $rdzv_endpoint == ?*:[0-9]* ]] || die "--nnodes $nnodes needs --rdzv_endpoint HOST:PORT of node 0"
  fi
  jobs=${jobs:-auto}
  if [ "$jobs" = auto ]; then  # a sweep's systems side by side: one per thread, on the CPU
    jobs=1
    [ "$torch_device" != cpu ] || [ "$ngpu" -gt 1 ] || [ "$nnodes" -gt 1 ] || jobs=$nthreads
  fi
  [[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs is auto or a positive number (got '$jobs')"
  # the threads of a system trained beside others (see beside): its share
  share_threads=$(( jobs > 1 ? nthreads / jobs : nthreads )); [ "$share_threads" -ge 1 ] || share_threads=1
  beside_pids=() beside_systems=()
  trap stop_beside EXIT  # a run that ends early leaves no training behind
  echo "$(date '+%F %T') torch threads per process: $nthreads (--nthreads; results repeat for the same number)," \
    "up to $jobs system(s) at a time (--jobs)"
  local dir
  for dir in "$data_dir" "$exp_dir"; do
    [ ! -e "$dir" ] || [ -d "$dir" ] || die "$dir is a file, not a folder"
  done
  if [ "$stage" -le "$2" ]; then
    writable "$data_dir" || die "cannot write to $data_dir: stages 0-$2 write there (use another --data_dir)"
  fi
  writable "$exp_dir" || die "cannot write to $exp_dir (use another --exp_dir)"
  # one lock per node: the nodes of one run share the folder
  lock_folder "$exp_dir" fail
  # the data stages of two runs on one folder: the second waits, then finds it built
  if [ "$stage" -le "$2" ]; then lock_folder "$data_dir" wait; fi
}

# lock_folder DIR fail|wait: this run's lock on DIR (this node's, under
# --nnodes), held until it exits; another run holding it: one line naming it
# (fail), or wait for it (wait)
lock_folder() {
  local fd other lock=$1/.iaug_lock
  [ "${node_rank:-0}" = 0 ] || lock=$1/.iaug_lock_node$node_rank
  exec {fd}>>"$lock"
  if ! flock -n "$fd"; then
    other=$(cat "$lock.pid" 2>/dev/null || true)
    [ "$2" = wait ] || die "another run (pid ${other:-unknown}) is using $1: wait for it to end or use another folder"
    echo "$(date '+%F %T') waiting for the other run (pid ${other:-unknown}) on $1"
    flock "$fd"
  fi
  echo $$ > "$lock.pid"
}

# check_device: --device is cpu, cuda or cuda:N, and a GPU is there for cuda;
# sets torch_device, the form every training and scoring process gets
check_device() {
  case "$device" in
    cpu) torch_device=cpu ;;
    cuda|cuda:[0-9]|cuda:[0-9][0-9])
      torch_device=$device; [ "$device" = cuda ] && torch_device=cuda:0
      python3 -c "import sys, torch; n = torch.cuda.device_count(); sys.exit(0 if n > int(sys.argv[1]) else 1)" \
        "${torch_device#cuda:}" 2>/dev/null || \
        die "--device $device: torch sees no such GPU on this machine (use --device cpu)" ;;
    *) die "--device is cpu, cuda or cuda:N (got '$device')" ;;
  esac
}

writable() {  # writable DIR: create it if needed and try a file there (root ignores modes)
  mkdir -p "$1" 2>/dev/null && touch "$1/.iaug_write_test" 2>/dev/null && rm -f "$1/.iaug_write_test"
}

require() {  # require SYSTEM:STAGE...: one line naming the stage to run first;
  # the stage's trainings record what they start from (see inputs); a
  # system still training beside (see beside) is waited for
  local item
  for item in "$@"; do
    wait_beside "${item%%:*}"
    [ -f "$exp_dir/${item%%:*}/.done" ] || \
      die "stage $stage_now needs ${item%%:*}, not trained in $exp_dir: run stage ${item##*:} first"
    required+=("${item%%:*}")
  done
}

# inputs ARGS...: what a training starts from, one line each: the seed, its
# extra options and every required system's completion token (.done)
inputs() {
  local dep
  echo "seed ${seed:-from the hparams}"
  echo "options $*"
  for dep in ${required[@]+"${required[@]}"}; do
    echo "system $dep $(cat "$exp_dir/$dep/.done")"
  done
}

# stale SYSTEM: the first recorded input of a finished SYSTEM that is not
# what its exp_dir holds now (a system it started from retrained); "" if none
stale() {
  local kind name token
  [ -f "$exp_dir/$1/.inputs" ] || return 0
  while read -r kind name token; do
    [ "$kind" = system ] || continue
    [ "$(cat "$exp_dir/$name/.done" 2>/dev/null)" = "$token" ] || { echo "$name"; return; }
  done < "$exp_dir/$1/.inputs"
}

# run_stage N WHAT: true (and announces "Stage N: WHAT") when N is in range
run_stage() {
  stage_now=$1 required=()
  [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ] || return 1
  echo "$(date '+%F %T') Stage $1: $2"
}

check_stages() {  # check_stages LAST: --stage/--stop_stage are stage numbers in order
  local s
  for s in "$stage" "$stop_stage"; do
    [[ $s =~ ^[0-9]+$ ]] && [ "$s" -le "$1" ] || {
      echo "$0: --stage and --stop_stage are numbers from 0 to $1 (got '$s'); see --help" >&2; exit 1; }
  done
  [ "$stage" -le "$stop_stage" ] || {
    echo "$0: --stop_stage $stop_stage is before --stage $stage" >&2; exit 1; }
}

setting() {  # setting HPARAMS KEY: a plain value of an hparams file after the preset
  python3 -m iaug.hparams "$1" "$2" "$preset_file"
}

# frontend_overrides NAME: the training overrides of a front-end, one a line:
# paper (raw dB, the paper's) or stable (dB floored 80 dB below each
# utterance's peak, the recognizer's input normalised per utterance)
frontend_overrides() {
  case "$1" in
    paper) ;;
    stable) printf '%s\n' --top_db 80 --normalize_input True ;;
    *) die "--frontend is paper or stable (got '$1')" ;;
  esac
}

# train SCRIPT HPARAMS SYSTEM [overrides...]: skips a finished system; the
# training's wall time (s) goes to <system>/wall_s
train() {
  local script=$1 hparams=$2 system=$3 t0 record changed; shift 3
  record=$(inputs "$@")
  if [ -f "$exp_dir/$system/.done" ]; then
    changed=$(stale "$system")
    [ -z "$changed" ] || die "$system was trained from another $changed than $exp_dir/$changed now: remove $exp_dir/$system to train it again"
    if [ -f "$exp_dir/$system/.inputs" ] && [ "$(head -2 "$exp_dir/$system/.inputs")" != "$(head -2 <<< "$record")" ]; then
      die "$system was trained with other settings ($(head -2 "$exp_dir/$system/.inputs" | tr '\n' ';')): remove $exp_dir/$system to train it again"
    fi
    log "$system: done, skipping"; return
  fi
  [ -f "$manifests/train.csv" ] || die "no manifests in $manifests: run the data stages first"
  local launcher=(python3)
  if [ "$ngpu" -gt 1 ] || [ "$nnodes" -gt 1 ]; then
    local backend=gloo; [ "$torch_device" = cpu ] || backend=nccl
    launcher=(torchrun --standalone --nproc_per_node "$ngpu")
    if [ "$nnodes" -gt 1 ]; then  # the same command on every node
      launcher=(torchrun --nnodes "$nnodes" --node_rank "$node_rank" --nproc_per_node "$ngpu"
                --rdzv_backend c10d --rdzv_endpoint "$rdzv_endpoint" --rdzv_id "iaug-$system")
    fi
    set -- "$@" --distributed_backend "$backend"
  fi
  # one process: the device named; under torchrun each rank takes its own GPU
  if [ "$ngpu" -le 1 ] || [ "$torch_device" = cpu ]; then set -- "$@" --device "$torch_device"; fi
  if [ -n "${seed:-}" ]; then set -- "$@" --seed "$seed"; fi
  [ "${precision:-fp32}" = fp32 ] || set -- "$@" --precision "$precision"
  log "training $system ($hparams, preset $preset)"
  t0=$(date +%s.%N)
  "${launcher[@]}" "$root/recipes/$script" "$hparams" --preset "$preset_file" \
    "${data_args[@]}" --exp_dir "$exp_dir" --output_folder "$exp_dir/$system" \
    "${train_extra[@]}" "$@"
  [ "$node_rank" = 0 ] || return 0  # the first node writes, as rank 0 does inside
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' > "$exp_dir/$system/wall_s"
  echo "$record" > "$exp_dir/$system/.inputs"
  echo "$(date +%s%N)-$RANDOM" > "$exp_dir/$system/.done"  # a token: systems started from it record it
}

# sweep NAME KEY CANDIDATES TAG [overrides...]: one system NAME_<TAG><value>
# per value of KEY listed in hparams/NAME.yaml's CANDIDATES (after the
# preset), then the link NAME -> the one with the lowest dev error. Up to
# `jobs` systems train side by side, in the candidates' order, the torch
# threads split between them (a fixed split for a given --nthreads and
# --jobs: the same bytes, also for one resumed alone); a group of one keeps
# them all and its progress bar; finished systems are skipped in this log
sweep() {
  local name=$1 key=$2 candidates=$3 tag=$4 values systems=() value i=0 group todo free
  shift 4
  read -ra values <<< "$(setting "hparams/$name.yaml" "$candidates")"
  sweep_name=$name sweep_key=$key sweep_tag=$tag sweep_args=("$@")
  for value in "${values[@]}"; do systems+=("$exp_dir/${name}_$tag$value"); done
  while [ "$i" -lt "${#values[@]}" ]; do
    group=("${values[@]:i:jobs}") todo=()
    # the group's share of threads, also for a system resumed alone: the same bytes
    sweep_threads=$(( nthreads / ${#group[@]} )); [ "$sweep_threads" -ge 1 ] || sweep_threads=1
    for value in "${group[@]}"; do  # finished ones: checked and skipped here, in this log
      if [ -f "$exp_dir/${name}_$tag$value/.done" ]; then train_candidate "$value"; else todo+=("$value"); fi
    done
    # the slots the systems training beside leave
    free=$(( jobs - $(running ${beside_pids[@]+"${beside_pids[@]}"}) )); [ "$free" -ge 1 ] || free=1
    [ "$free" -le "${#todo[@]}" ] || free=${#todo[@]}
    [ "$free" -le 1 ] || log "$(printf "${name}_$tag%s " "${todo[@]}")side by side," \
      "$sweep_threads torch thread(s) each (--jobs $jobs)"
    [ "${#todo[@]}" = 0 ] || foreach "$free" "$exp_dir/log_${name}_$tag" train_candidate "${todo[@]}"
    i=$(( i + ${#group[@]} ))
  done
  python3 -m iaug.scoring select "$exp_dir/$name" "${systems[@]}"
}

train_candidate() {  # train_candidate VALUE: the running sweep's system of VALUE
  with_threads "$sweep_threads" train train_recognizer.py "hparams/$sweep_name.yaml" "${sweep_name}_$sweep_tag$1" \
    --"$sweep_key" "$1" ${sweep_args[@]+"${sweep_args[@]}"}
}

# beside SYSTEM COMMAND...: with --jobs 2 or more, COMMAND (the training of
# SYSTEM) runs in the background, its output in $exp_dir/log_SYSTEM.log,
# taking one of the --jobs slots until `require` or `wait_beside` waits for
# it; else in the foreground. Either way with its share of the threads
# (nthreads / jobs), as the other systems it may run beside: the same bytes
# whatever runs beside it, or none
beside() {
  local system=$1; shift
  if [ "$jobs" -le 1 ] || [ -f "$exp_dir/$system/.done" ]; then shared "$@"; return; fi  # checked here
  log "$system: training in the background, beside the next stages: tail -f $exp_dir/log_$system.log"
  shared "$@" > "$exp_dir/log_$system.log" 2>&1 &
  beside_pids+=("$!") beside_systems+=("$system")
}

shared() {  # shared COMMAND...: COMMAND with the share of threads of a system beside others
  with_threads "$share_threads" "$@"
}

with_threads() {  # with_threads N COMMAND...: COMMAND (a function or a process) with N torch threads
  local OMP_NUM_THREADS=$1 MKL_NUM_THREADS=$1; shift
  export OMP_NUM_THREADS MKL_NUM_THREADS
  "$@"
}

# wait_beside [SYSTEM]: wait for SYSTEM (default: every system) training in
# the background; one that failed ends the run with its log's last line
wait_beside() {
  local i
  for i in "${!beside_pids[@]}"; do
    [ -z "${1:-}" ] || [ "${beside_systems[i]}" = "$1" ] || continue
    wait "${beside_pids[i]}" || die "${beside_systems[i]} failed: $(tail -n 1 "$exp_dir/log_${beside_systems[i]}.log") (all of it: $exp_dir/log_${beside_systems[i]}.log)"
    unset "beside_pids[i]" "beside_systems[i]"
  done
}

stop_beside() {  # the systems still training beside when the run ends early: stopped
  local pid
  for pid in ${beside_pids[@]+"${beside_pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
}

# finished SYSTEM...: sets `systems` to those of the named systems that
# finished training (.done) and `unfinished` to every system folder of
# exp_dir that started and did not (killed, or still training), named in one line
finished() {
  local s dir
  systems=() unfinished=()
  local changed
  wait_beside
  for s in "$@"; do
    [ -f "$exp_dir/$s/.done" ] || continue
    changed=$(stale "$s")
    [ -z "$changed" ] || die "$s was trained from another $changed than $exp_dir/$changed now: retrain it (remove $exp_dir/$s and rerun its stage)"
    systems+=("$s")
  done
  for dir in "$exp_dir"/*/; do
    dir=${dir%/}
    [ -L "$dir" ] || [ ! -f "$dir/hyperparams.yaml" ] || [ -f "$dir/.done" ] || \
      unfinished+=("$(basename "$dir")")
  done
  [ ${#unfinished[@]} -eq 0 ] || log "not scored, training unfinished: ${unfinished[*]}"
}

# evaluate SYSTEM...: every system on the clean (test*.csv) and noisy test
# manifests of $manifests -> $exp_dir/results.csv (written whole), then
# results.md with the figures; needs: manifests, eval_args (extra iaug-eval
# options), report_args (extra options of iaug.cli.report), unfinished;
# real_speech_task=labels also scores the folder of recordings of people
evaluate() {
  [ "$node_rank" = 0 ] || { log "scoring is node 0's"; return 0; }
  local sets=() f
  for f in "$manifests"/test*.csv "$manifests"/noisy/*.csv; do [ -e "$f" ] && sets+=("$f"); done
  score_systems=("$@")
  score_opts=(--exp_dir "$exp_dir" --manifest "${sets[@]}" --device "$torch_device" "${eval_args[@]}")
  side_by_side_scores
  python3 -m iaug.cli.evaluate --system "$@" "${score_opts[@]}" --results_csv "$exp_dir/results.csv"
  # recordings of people, for checking only (never trained on): IAUG_REAL_SPEECH_DIR,
  # by default ../shared/data/fsdd beside the repository, when it is there
  local real=${IAUG_REAL_SPEECH_DIR:-$root/../shared/data/fsdd}
  if [ "${real_speech_task:-}" = labels ] && [ -d "$real" ]; then
    log "also scoring the recordings of people in $real (IAUG_REAL_SPEECH_DIR)"
    score_opts=(--exp_dir "$exp_dir" --data_dir "$real" --device "$torch_device" "${eval_args[@]}")
    side_by_side_scores
    python3 -m iaug.cli.evaluate --system "$@" "${score_opts[@]}" \
      --results_csv "$exp_dir/results.csv" --append
  fi
  python3 -m iaug.cli.report --exp_dir "$exp_dir" --test_csv "$manifests/test.csv" \
    --unfinished ${unfinished[@]+"${unfinished[@]}"} "${report_args[@]}"
  cat "$exp_dir/results.md"
}

# side_by_side_scores: with --jobs N > 1 (the CPU's default), score_systems
# are scored first in N groups side by side, the torch threads split (a fixed
# split: the same decisions on a rerun), each saving its decisions; the one
# iaug-eval call after it reads them back and writes the table (and, where a
# group failed, meets the same error and says it in one line)
side_by_side_scores() {
  score_groups=$(( jobs < ${#score_systems[@]} ? jobs : ${#score_systems[@]} ))
  [ "$score_groups" -gt 1 ] || return 0
  score_threads=$(( nthreads / score_groups )); [ "$score_threads" -ge 1 ] || score_threads=1
  log "scoring in $score_groups groups side by side, $score_threads torch thread(s) each (--jobs $jobs)"
  foreach "$score_groups" "$exp_dir/log_scoring_" score_group $(seq 0 $(( score_groups - 1 ))) \
    2> /dev/null || true
}

score_group() {  # score_group K: every score_groups-th system of score_systems from the K-th
  local i group=()
  for (( i = $1; i < ${#score_systems[@]}; i += score_groups )); do group+=("${score_systems[i]}"); done
  with_threads "$score_threads" python3 -m iaug.cli.evaluate --system "${group[@]}" "${score_opts[@]}"
}

foreach() {  # foreach NJ LOG_PREFIX FUNCTION ITEM...: FUNCTION ITEM for each ITEM.
  # NJ > 1: up to NJ at once in the background, output in LOG_PREFIX<ITEM>.log
  # (its own jobs only: a system training beside is left to wait_beside)
  local nj=$1 prefix=$2 fn=$3 item pid failed=0 pids=(); shift 3
  if [ "$nj" -le 1 ]; then
    for item in "$@"; do "$fn" "$item"; done
    return
  fi
  for item in "$@"; do
    while [ "$(running ${pids[@]+"${pids[@]}"})" -ge "$nj" ]; do sleep 1; done
    echo "$(date '+%F %T') $fn $item in the background: tail -f $prefix$item.log"
    "$fn" "$item" > "$prefix$item.log" 2>&1 &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || { echo "$fn failed for one of: $*; see $prefix*.log" >&2; return 1; }
}

running() {  # running PID...: how many of these background jobs still run
  local pid n=0 live=" $(jobs -rp | tr '\n' ' ') "
  for pid in "$@"; do [[ $live == *" $pid "* ]] && n=$((n + 1)); done
  echo "$n"
}
