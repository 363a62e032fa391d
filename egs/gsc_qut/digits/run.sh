#!/usr/bin/env bash
# Spoken digits (zero..nine) with SpeechBrain's x-vector classifier on fbank,
# reusing an ImportantAug generator trained by ../kws for another task and
# recognizer: hparams/importantaug.yaml adds the `ImportantAug` waveform
# augmentation to hparams/baseline.yaml, nothing else.
#
#   ./run.sh --preset demo --data_dir ../kws/data/synth
#   ./run.sh --preset tiny --data_dir D --exp_dir E --generator G.pt
#
# Stages (a range with --stage N --stop_stage M; finished systems skip):
#   1 data          digit manifests filtered from the KWS data folder's manifests
#   2 baseline      x-vector classifier on clean data             <- nothing
#   3 importantaug  the same with ImportantAug (frozen KWS generator, -12.5 dB)
#                                                                 <- baseline + generator
#   4 evaluation    clean + noisy test sets -> results.csv, results.md, plot
#   5 export        model folders (iaug-export) and importance maps (iaug-plot)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

stage=1
stop_stage=5
preset=demo                   # tiny | demo
data_dir=../kws/data/synth    # the KWS recipe's data folder (manifests/ inside)
exp_dir=""                    # default: exp/<preset>
generator=""                  # KWS generator: experiment folder, .ckpt or authors' .pt
init_from_baseline=true       # true: ImportantAug starts from the trained baseline (the
                              # paper); false: from scratch, same epochs (see RESULTS.md)
device=cpu                    # cpu | cuda | cuda:N (checked before any work)
ngpu=0
nnodes=1                      # several machines: N nodes of --ngpu processes each, started on
                              # every node with its --node_rank and one --rdzv_endpoint HOST:PORT
node_rank=0
rdzv_endpoint=""
precision=fp32                # fp32 | bf16 | fp16 (mixed precision of training; fp16 on a GPU)
nthreads=auto                 # torch threads per process: auto = the cores it may use (/ ngpu);
                              # results repeat for the same number

. "$root/tools/parse_options.sh"
. "$root/tools/recipe_lib.sh"
[ -n "$exp_dir" ] || exp_dir=exp/$preset
preset_file=hparams/presets/$preset.yaml
[ -f "$preset_file" ] || die "unknown preset '$preset' (no $preset_file)"
setup_run 5 -1   # its data stage writes into exp_dir
if [ -z "$generator" ]; then
  # the KWS recipe's generator of the same preset, else the authors' checkpoint
  generator=../kws/exp/synth_$preset/generator
  ls "$generator"/save/CKPT+* >/dev/null 2>&1 || generator=$root/../shared/reference/importantaug_clf_frozen.pt
fi
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
manifests=$exp_dir/manifests
data_args=(--manifest_dir "$manifests")
train_extra=()

if run_stage 1 "digit manifests from $data_dir/manifests -> $manifests"; then
  python3 local/prepare.py --data_dir "$data_dir" --out_dir "$manifests"
fi

if run_stage 2 "baseline x-vector classifier on clean speech"; then
  train train_recognizer.py hparams/baseline.yaml baseline
fi

if run_stage 3 "ImportantAug with the KWS generator $generator"; then
  [ "$init_from_baseline" = true ] && require baseline:2
  [ -e "$generator" ] || die "no generator at $generator: train ../kws stage 4 or pass --generator"
  init=$exp_dir/baseline; [ "$init_from_baseline" = true ] || init=null
  train train_recognizer.py hparams/importantaug.yaml importantaug --init_generator "$generator" \
    --noise_csv "$data_dir/manifests/noise_train.csv" --init_recognizer "$init"
fi

if run_stage 4 "evaluation -> $exp_dir/results.csv"; then
  require baseline:2 importantaug:3
  eval_args=() report_args=(--generator "$generator" --title "Spoken digits: baseline against ImportantAug")
  unfinished=()
  evaluate baseline importantaug
fi

if run_stage 5 "model folders -> $exp_dir/models, importance maps -> $exp_dir/importance_maps.png"; then
  for system in baseline importantaug; do
    python3 -m iaug.export --exp_dir "$exp_dir" --system $system --generator "$generator" \
      --out "$exp_dir/models/$system"
  done
  wavs=$(python3 -c 'import csv,sys; rows=list(csv.DictReader(open(sys.argv[1])))
seen={}; [seen.setdefault(r["label"], r["wav"]) for r in rows]; print(" ".join(list(seen.values())[:4]))' \
    "$manifests/test.csv")
  python3 -m iaug.cli.plot importance --generator "$generator" \
    --out "$exp_dir/importance_maps.png" $wavs
fi
