#!/usr/bin/env bash
# ImportantAug for speech recognition: a CTC recognizer on LibriSpeech (+ MUSAN
# training noise, QUT-NOISE test noise), or on the offline synthesized corpus
# in LibriSpeech layout (espeak-ng voices reading grammar sentences).
#
#   ./run.sh --corpus synth --preset demo            # everything, offline
#   ./run.sh --corpus librispeech --preset full --device cuda --ngpu 4
#
# Stages (run a range with --stage N --stop_stage M; finished stages skip):
#   0 data           download LibriSpeech subsets, MUSAN and QUT (librispeech)
#                    or synthesize the corpus and noise recordings (synth)
#   1 manifests      training-noise clips, noisy test sets at data.yaml's SNRs,
#                    SpeechBrain CSVs (every file checked once), sentencepiece
#   2 baseline       CTC recognizer on clean speech
#   3 noise          conventional noise, one system per SNR candidate, best on dev
#   4 generator      ImportantAug stage A against the frozen baseline (CTC loss)
#   5 importantaug   ImportantAug stage B with the frozen generator
#   6 null           Null ImportantAug (all-ones mask)
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
device=cpu              # cpu | cuda
ngpu=0                  # >1: training stages under torchrun (DDP; gloo on cpu)
nj=2                    # parallel jobs for data preparation
nthreads=""             # torch threads per process (OMP_NUM_THREADS); default: torch's
archive_dir=""          # archives fetched by hand (librispeech)
on_bad=fail             # fail | skip: what stage 1 does with bad audio files

. "$root/tools/parse_options.sh"
case "$corpus" in synth|librispeech) ;; *) echo "run.sh: --corpus is synth or librispeech" >&2; exit 1 ;; esac
[ -n "$data_dir" ] || data_dir=data/${corpus}_${preset}
[ -n "$exp_dir" ] || exp_dir=exp/${corpus}_${preset}
hp=hparams
preset_file=$hp/presets/$preset.yaml
[ -f "$preset_file" ] || { echo "run.sh: unknown preset '$preset' (no $preset_file)" >&2; exit 1; }
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
[ -n "$nthreads" ] && export OMP_NUM_THREADS=$nthreads MKL_NUM_THREADS=$nthreads
mkdir -p "$exp_dir"

# tokenizer type and size of this corpus (data.yaml), for stage 1 and training
read -r token_type vocab_size < <(python3 -c 'import sys, yaml
t = yaml.safe_load(open(sys.argv[1]))["tokenizer"][sys.argv[2]]
print(t["token_type"], t["vocab_size"])' $hp/data.yaml "$corpus")

train_extra=(--vocab_size "$vocab_size" --token_type "$token_type")
. "$root/tools/recipe_lib.sh"

if run_stage 0; then
  log 0 "data: corpus=$corpus preset=$preset -> $data_dir"
  python3 local/prepare_data.py download --corpus "$corpus" --preset "$preset" \
    --data_dir "$data_dir" --nj "$nj" ${archive_dir:+--archive_dir "$archive_dir"}
fi

if run_stage 1; then
  log 1 "noise clips, noisy test sets, manifests, tokenizer -> $data_dir"
  python3 local/prepare_data.py manifests --corpus "$corpus" --preset "$preset" \
    --data_dir "$data_dir" --nj "$nj" --on_bad "$on_bad" \
    --vocab_size "$vocab_size" --token_type "$token_type"
fi

if run_stage 2; then
  train train_recognizer.py $hp/baseline.yaml baseline
fi

if run_stage 3; then
  systems=()
  for snr in $(python3 -m iaug.recipe $hp/noise.yaml snr_candidates "$preset_file"); do
    train train_recognizer.py $hp/noise.yaml "noise_snr$snr" --snr_db "$snr"
    systems+=("$exp_dir/noise_snr$snr")
  done
  python3 -c 'import sys; from iaug.scoring import select_on_dev; print("chosen on dev:", select_on_dev(sys.argv[2:], sys.argv[1])[0])' \
    "$exp_dir/noise" "${systems[@]}"
fi

if run_stage 4; then
  train train_generator.py $hp/generator.yaml generator
fi

if run_stage 5; then
  train train_recognizer.py $hp/importantaug.yaml importantaug
fi

if run_stage 6; then
  train train_recognizer.py $hp/null_importantaug.yaml null_importantaug
fi

if run_stage 7; then
  log 7 "evaluation -> $exp_dir/results.csv"
  dev=cpu; [ "$device" = cuda ] && dev=cuda:0
  python3 local/evaluate.py --hparams $hp/baseline.yaml --preset "$preset_file" \
    --data_dir "$data_dir" --exp_dir "$exp_dir" --device "$dev" \
    --vocab_size "$vocab_size" --token_type "$token_type"
  cat "$exp_dir/results.md"
fi
