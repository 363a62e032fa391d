#!/usr/bin/env bash
# ImportantAug for speech recognition: a CTC recognizer on LibriSpeech (+ MUSAN
# training noise, QUT-NOISE test noise), or on the offline synthesized corpus
# in LibriSpeech layout (espeak-ng voices reading grammar sentences).
#
#   ./run.sh --corpus synth --preset demo            # everything, offline
#   ./run.sh --corpus librispeech --preset full --device cuda --ngpu 4
#
# The method in two stages, as for keyword spotting: the baseline (stage 2) on
# clean speech; the generator (stage 4, stage A) against that frozen baseline;
# ImportantAug (stage 5, stage B) fine-tunes the baseline with noise placed by
# the frozen generator. Every arm fine-tunes the baseline (hparams/<arm>.yaml).
#
# Stages (run a range with --stage N --stop_stage M; finished systems skip;
# 3, 4 and 6 run in the order 4, 3, 6, the generator beside the other two):
#   0 data           download LibriSpeech subsets, MUSAN and QUT (librispeech)
#                    or synthesize the corpus and noise recordings (synth)
#   1 manifests      training-noise clips, noisy test sets at data.yaml's SNRs,
#                    SpeechBrain CSVs (every file checked once), sentencepiece
#   2 baseline       CTC recognizer on clean speech            <- nothing
#   3 noise          conventional noise, one system per SNR, best on dev  <- baseline
#   4 generator      ImportantAug stage A (CTC loss)           <- frozen baseline
#   5 importantaug   ImportantAug stage B                      <- baseline + frozen generator
#   6 null           Null ImportantAug (all-ones mask)         <- baseline
#   7 evaluation     WER of every system on clean + noisy test sets ->
#                    results.csv, results.md, error-vs-SNR plot, importance maps
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)

stage=0
stop_stage=7
corpus=synth            # synth | librispeech
preset=demo             # tiny | demo | full
data_dir=""             # default: data/<corpus>_<preset>
exp_dir=""              # default: exp/<corpus>_<preset>
device=cpu              # cpu | cuda | cuda:N (checked before any work)
ngpu=0                  # >1: training stages under torchrun (DDP; gloo on cpu)
nnodes=1                # several machines: N nodes of --ngpu processes each, started on
                        # every node with its --node_rank and one --rdzv_endpoint HOST:PORT
node_rank=0
rdzv_endpoint=""
precision=fp32          # fp32 | bf16 | fp16 (mixed precision of training; fp16 on a GPU)
nj=2                    # parallel jobs for data preparation
nthreads=auto           # torch threads of a training process: auto = the cores it may use (/ ngpu);
                        # results repeat for the same number
jobs=auto               # systems side by side, the threads split between them: those of one
                        # dev sweep (stage 3), the generator beside stages 3 and 6, and stage
                        # 7's scoring; auto = one per thread on the CPU
archive_dir=""          # archives fetched by hand (librispeech)
on_bad=fail             # fail | skip: what stage 1 does with bad audio files

. "$root/tools/parse_options.sh"
fp16_ok=false           # LogMel squares magnitudes: half precision overflows there
. "$root/tools/recipe_lib.sh"
case "$corpus" in synth|librispeech) ;; *) die "--corpus is synth or librispeech (got '$corpus')" ;; esac
[ -n "$data_dir" ] || data_dir=data/${corpus}_${preset}
[ -n "$exp_dir" ] || exp_dir=exp/${corpus}_${preset}
preset_file=hparams/presets/$preset.yaml
[ -f "$preset_file" ] || die "unknown preset '$preset' (no $preset_file)"
setup_run 7 1
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
manifests=$data_dir/manifests

# tokenizer type and size of this corpus (data.yaml), for stage 1 and training
token_type=$(python3 -m iaug.hparams hparams/data.yaml "tokenizer.$corpus.token_type")
vocab_size=$(python3 -m iaug.hparams hparams/data.yaml "tokenizer.$corpus.vocab_size")
data_args=(--data_dir "$data_dir")
train_extra=(--vocab_size "$vocab_size" --token_type "$token_type")

if run_stage 0 "data: corpus=$corpus preset=$preset -> $data_dir"; then
  python3 local/prepare_data.py download --corpus "$corpus" --preset "$preset" \
    --data_dir "$data_dir" --nj "$nj" ${archive_dir:+--archive_dir "$archive_dir"}
fi

if run_stage 1 "noise clips, noisy test sets, manifests, tokenizer -> $data_dir"; then
  python3 local/prepare_data.py manifests --corpus "$corpus" --preset "$preset" \
    --data_dir "$data_dir" --nj "$nj" --on_bad "$on_bad" \
    --vocab_size "$vocab_size" --token_type "$token_type"
fi

if run_stage 2 "baseline CTC recognizer on clean speech"; then
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

if run_stage 5 "ImportantAug (stage B) with the frozen generator"; then
  require baseline:2 generator:4
  train train_recognizer.py hparams/importantaug.yaml importantaug
fi

if run_stage 7 "evaluation -> $exp_dir/results.csv"; then
  finished baseline noise importantaug null_importantaug
  [ ${#systems[@]} -gt 0 ] || die "nothing trained in $exp_dir: run stages 2-6 first"
  eval_args=() report_args=(--metric_name WER)
  evaluate "${systems[@]}"
fi
wait_beside
