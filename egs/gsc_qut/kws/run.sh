#!/usr/bin/env bash
# ImportantAug for keyword spotting (Google Speech Commands v0.02 + MUSAN/QUT,
# or the offline synthesized corpus).
#
#   ./run.sh --corpus synth --preset demo            # everything, offline
#   ./run.sh --corpus gsc --preset paper --device cuda --ngpu 4
#
# The method in two stages: the baseline recognizer (stage 2) is trained on
# clean speech; the generator (stage 4, ImportantAug's stage A) learns against
# that frozen baseline where noise can go; ImportantAug (stage 5, stage B)
# fine-tunes the baseline with noise placed by the frozen generator. Every
# other arm also fine-tunes the baseline (hparams/<arm>.yaml: `base:` and
# `init_recognizer`).
#
# Stages (run a range with --stage N --stop_stage M; finished systems skip;
# 3, 4 and 6 run in the order 4, 3, 6, the generator beside the other two):
#   0 data           download (gsc) or synthesize (synth) corpus, noises, noisy test sets
#   1 manifests      SpeechBrain CSVs; every file checked once
#   2 baseline       recognizer on clean data                   <- nothing
#   3 noise          conventional noise, one system per SNR, best SNR on dev  <- baseline
#   4 generator      ImportantAug stage A                       <- frozen baseline
#   5 importantaug   ImportantAug stage B, one system per SNR, best SNR on dev  <- baseline + generator
#   6 null           Null ImportantAug (all-ones mask)          <- baseline
#   7 binarized      Binarized ImportantAug, one system per q, best q on dev  <- baseline + generator
#   8 peers          with --peers true: SpeechBrain-style augmentation, SpecAugment-style
#                    masking, ImportantAug + masking (benchmark rows) <- baseline (+ generator)
#   9 evaluation     every system on clean + noisy test sets -> results.csv/md, plots
#                    (decisions of an unchanged checkpoint on an unchanged test set are reused)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

stage=0
stop_stage=9
corpus=synth            # synth | gsc
preset=demo             # tiny | demo | paper
data_dir=""             # default: data/<corpus>
exp_dir=""              # default: exp/<corpus>_<preset>
device=cpu              # cpu | cuda | cuda:N (checked before any work)
ngpu=0                  # >1: training stages under torchrun (DDP)
nnodes=1                # several machines: N nodes of --ngpu processes each, started on
                        # every node with its --node_rank and one --rdzv_endpoint HOST:PORT
node_rank=0
rdzv_endpoint=""
precision=fp32          # fp32 | bf16 | fp16 (mixed precision of training; fp16 on a GPU)
nj=2                    # parallel jobs for data preparation
nthreads=auto           # torch threads of a training process: auto = the cores it may use (/ ngpu);
                        # results repeat for the same number
jobs=auto               # systems side by side, the threads split between them: those of one
                        # dev sweep (stages 3, 5, 7), the generator beside stages 3 and 6, and
                        # stage 9's scoring; auto = one per thread on the CPU
archive_dir=""          # archives fetched by hand (gsc)
on_bad=fail             # fail | skip: what stage 1 does with bad audio files
peers=false             # true: stage 8 trains the benchmark's peer rows
authors_ckpt=$root/../shared/reference/importantaug_clf_frozen.pt
authors_generator=false # true: stage 5 also trains from the authors' generator
eval_authors=false      # true: stage 9 also scores the authors' recognizer
seed=""                 # training seed of every system (default: the hparams')
frontend=stable         # stable | paper: dB floored 80 dB below each utterance's peak and
                        # the recognizer's input normalised (well-conditioned on digital
                        # silence), or the paper's raw dB

. "$root/tools/parse_options.sh"
. "$root/tools/recipe_lib.sh"
case "$corpus" in synth|gsc) ;; *) die "--corpus is synth or gsc (got '$corpus')" ;; esac
[ -n "$data_dir" ] || data_dir=data/$corpus
[ -n "$exp_dir" ] || exp_dir=exp/${corpus}_${preset}
preset_file=hparams/presets/$preset.yaml
[ -f "$preset_file" ] || die "unknown preset '$preset' (no $preset_file)"
frontend_overrides "$frontend" > /dev/null  # a bad name: one line, exit
mapfile -t train_extra < <(frontend_overrides "$frontend")
setup_run 9 1
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
manifests=$data_dir/manifests
data_args=(--data_dir "$data_dir")

if run_stage 0 "data: corpus=$corpus preset=$preset -> $data_dir"; then
  python3 local/prepare_data.py download --corpus "$corpus" --preset "$preset" \
    --data_dir "$data_dir" --nj "$nj" ${archive_dir:+--archive_dir "$archive_dir"}
fi

if run_stage 1 "manifests -> $manifests"; then
  python3 local/prepare_data.py manifests --data_dir "$data_dir" --on_bad "$on_bad"
fi

if run_stage 2 "baseline recognizer on clean speech"; then
  train train_recognizer.py hparams/baseline.yaml baseline
fi

# Stages 3, 4 and 6 need only the baseline. They run in the order 4, 3, 6:
# with --jobs 2 or more (the CPU's default) the generator trains in the
# background beside stages 3 and 6, and stage 5 waits for it.
if run_stage 4 "generator (ImportantAug stage A) against the frozen baseline"; then
  require baseline:2
  beside generator train train_generator.py hparams/generator.yaml generator
fi

if run_stage 3 "conventional noise, SNR chosen on dev"; then
  require baseline:2
  sweep noise snr_db snr_candidates snr
fi

if run_stage 6 "Null ImportantAug (all-ones mask)"; then
  require baseline:2
  shared train train_recognizer.py hparams/null_importantaug.yaml null_importantaug
fi

if run_stage 5 "ImportantAug (stage B) with the frozen generator, SNR chosen on dev"; then
  require baseline:2 generator:4
  sweep importantaug snr_db snr_candidates snr
  if [ "$authors_generator" = true ]; then  # at the SNR chosen for ours
    train train_recognizer.py hparams/importantaug.yaml importantaug_authorsgen \
      --init_generator "$authors_ckpt" --snr_db "$(sed -n 's/^snr_db: //p' "$exp_dir/importantaug/hyperparams.yaml")"
  fi
fi

if run_stage 7 "Binarized ImportantAug, q chosen on dev"; then
  require baseline:2 generator:4
  sweep binarized q q_candidates q
fi

if run_stage 8 "peers (benchmark rows)"; then
  if [ "$peers" = true ]; then
    require baseline:2 generator:4
    peer_arms=$(python3 -m iaug.benchmark.rows benchmark_rows.yaml --arms --stage 8)
    for arm in $peer_arms; do
      train train_recognizer.py hparams/$arm.yaml $arm
    done
  else
    log "skipped (--peers true trains them)"
  fi
fi

if run_stage 9 "evaluation -> $exp_dir/results.csv"; then
  arms=$(python3 -m iaug.benchmark.rows benchmark_rows.yaml --arms)  # the rows' arms, in stage order
  finished $arms importantaug_authorsgen
  [ ${#systems[@]} -gt 0 ] || die "nothing trained in $exp_dir: run stages 2-8 first"
  eval_args=() report_args=() real_speech_task=labels
  if [ "$eval_authors" = true ]; then  # built from the baseline's hparams
    systems+=("authors=$authors_ckpt")
    eval_args=(--hparams hparams/baseline.yaml --overrides "{data_dir: '$data_dir'}")
  fi
  evaluate "${systems[@]}"
fi
wait_beside
