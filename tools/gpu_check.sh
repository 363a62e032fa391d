#!/usr/bin/env bash
# The checks of a GPU machine, in one run: the training speed of every KWS
# stage (egs/gsc_qut/kws/local/speed.py), the tiny preset of every recipe end
# to end (KWS on its synthesized corpus, digits over the KWS data and
# generator, ASR on its synthesized corpus), and, with two GPUs or more, the
# KWS tiny preset's training and scoring under torchrun (--ngpu 2). Then one
# table: check, status, wall seconds, key figure; the exit status is 1 when
# a check failed, 2 without a GPU.
#
#   bash tools/gpu_check.sh                       # on a GPU machine
#   bash tools/gpu_check.sh --device cpu          # the same steps on the CPU
#   GPU_CHECK_DEVICE=cpu bash tools/gpu_check.sh  # likewise (--ngpu 2: gloo)
#
# Needs espeak-ng (the synthesized corpora). Everything is written under a
# temporary folder (GPU_CHECK_DIR to keep it elsewhere); each check's log is
# there, the tail of a failed one is printed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
device=${GPU_CHECK_DEVICE:-cuda}
case "${1:-}" in
  --device) device=${2:?--device needs cpu or cuda} ;;
  "") ;;
  *) echo "usage: bash tools/gpu_check.sh [--device cpu|cuda]" >&2; exit 1 ;;
esac
case "$device" in cpu|cuda) ;; *) echo "gpu_check: --device is cpu or cuda (got '$device')" >&2; exit 1 ;; esac

if [ "$device" = cuda ]; then
  ngpu=$(python3 -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)
  [ "$ngpu" -ge 1 ] 2>/dev/null || {
    echo "gpu_check: no GPU on this machine (torch sees none; --device cpu runs the same steps on the CPU)"
    exit 2; }
  steps=(--steps 30 --warmup 3)
else
  ngpu=2  # two gloo ranks stand in for two GPUs
  steps=(--steps 3 --warmup 1)
fi
command -v espeak-ng > /dev/null || {
  echo "gpu_check: the synthesized corpora need espeak-ng (apt-get install espeak-ng)" >&2; exit 1; }
work=${GPU_CHECK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")}
mkdir -p "$work"
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
kws=$root/egs/gsc_qut/kws
echo "gpu_check: device $device, $([ "$device" = cuda ] && echo "$ngpu GPU(s)" || echo "2 gloo ranks for --ngpu 2"), work folder $work"
[ "$device" = cpu ] || nvidia-smi -L 2>/dev/null || true

rows=() failed=0
# check NAME FIGURE_FUNCTION COMMAND...: runs COMMAND (output in $work/NAME.log),
# then FIGURE_FUNCTION for the table's key figure
check() {
  local name=$1 figure=$2 t0 status=ok key; shift 2
  echo "$(date '+%F %T') $name: $*"
  t0=$(date +%s.%N)
  "$@" > "$work/$name.log" 2>&1 || status=FAILED
  local wall; wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  if [ "$status" = ok ]; then
    key=$("$figure" 2>/dev/null) || key="(no figure: see $work/$name.log)"
  else
    failed=1 key="see $work/$name.log"
    tail -n 20 "$work/$name.log" | sed "s/^/  $name | /"
  fi
  rows+=("$name|$status|$wall|$key")
}

# test error (%) of the systems in a results.csv
errors() {
  python3 - "$1" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["test_set"] == "test"]
print(", ".join(f"{r['system']} {float(r['error_rate']):.1f}" for r in rows
                if r["system"] in ("baseline", "importantaug")) + " % on test")
EOF
}
kws_figure() { errors "$work/kws_exp/results.csv"; }
digits_figure() { errors "$work/digits_exp/results.csv"; }
asr_figure() { errors "$work/asr_exp/results.csv"; }
ddp_figure() { errors "$work/kws_ddp_exp/results.csv"; }
speed_figure() {
  tail -n 1 "$work/speed.log" | python3 -c "
import json, sys
r = json.load(sys.stdin)
low = min(r['stages'].items(), key=lambda kv: kv[1]['ratio'])
print(f\"bound {r['bound_utt_per_s']:.0f} utt/s; slowest {low[0]} {low[1]['ratio']:.0%} of it\")"
}

check kws_tiny kws_figure bash "$kws/run.sh" --corpus synth --preset tiny --device "$device" \
  --data_dir "$work/kws_data" --exp_dir "$work/kws_exp"
if [ -f "$work/kws_data/manifests/train.csv" ]; then
  check speed speed_figure python3 "$kws/local/speed.py" --data_dir "$work/kws_data" \
    --device "$device" --preset "$kws/hparams/presets/tiny.yaml" --batch_size 32 "${steps[@]}"
else
  rows+=("speed|skipped|0|no KWS data (kws_tiny failed)")
fi
if [ -d "$work/kws_exp/generator" ]; then
  check digits_tiny digits_figure bash "$root/egs/gsc_qut/digits/run.sh" --preset tiny \
    --device "$device" --data_dir "$work/kws_data" --exp_dir "$work/digits_exp" \
    --generator "$work/kws_exp/generator"
else
  rows+=("digits_tiny|skipped|0|no KWS generator (kws_tiny failed)")
fi
check asr_tiny asr_figure bash "$root/egs/librispeech/asr/run.sh" --corpus synth --preset tiny \
  --device "$device" --data_dir "$work/asr_data" --exp_dir "$work/asr_exp"
if [ "$ngpu" -ge 2 ] && [ -f "$work/kws_data/manifests/train.csv" ]; then
  check kws_tiny_ngpu2 ddp_figure bash "$kws/run.sh" --corpus synth --preset tiny --stage 2 \
    --device "$device" --ngpu 2 --data_dir "$work/kws_data" --exp_dir "$work/kws_ddp_exp"
else
  rows+=("kws_tiny_ngpu2|skipped|0|$([ "$ngpu" -ge 2 ] && echo "no KWS data" || echo "one GPU")")
fi

echo
printf '%-15s %-8s %7s  %s\n' check status wall_s "key figure"
for row in "${rows[@]}"; do
  IFS='|' read -r name status wall key <<< "$row"
  printf '%-15s %-8s %7s  %s\n' "$name" "$status" "$wall" "$key"
done
exit "$failed"
