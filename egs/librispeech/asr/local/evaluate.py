#!/usr/bin/env python3
"""Stage 7: WER of every trained system on the clean and noisy test sets.

  evaluate.py --hparams hparams/baseline.yaml --preset hparams/presets/demo.yaml \\
      --data_dir DIR --exp_dir EXP [--systems baseline noise ...] [--device cpu]

A system is a folder ``EXP/<system>`` (its best checkpoint by dev loss). The
recognizer is built from the hparams (and preset), scored by the same
``RecognizerBrain`` and ``CTCRecognition`` task that trained it (greedy CTC
decoding, SpeechBrain's ErrorRateStats). Writes
  EXP/results.csv   system,test_set,snr_db,wer,num_utts
  EXP/results.md    the table and relative WER reductions
  EXP/wer_vs_snr.png, EXP/importance_maps.png (when EXP/generator exists)
  EXP/<system>/eval/<set>.txt   per-utterance alignments (ErrorRateStats)
"""
import argparse
import glob
import json
import logging
import os
import sys
from pathlib import Path

try:
    import iaug  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import torch
import speechbrain as sb
import yaml
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.dataio import load_data_csv

from iaug.brains import RecognizerBrain
from iaug.checkpoints import load_weights
from iaug.dataio import audio_dataset, read_wav
from iaug.models import MaskGenerator
from iaug.recipe import preset_overrides
from iaug.scoring import append_rows, dev_choices, read_rows, results_markdown, test_set_name

logger = logging.getLogger("evaluate")
FIELDS = ["system", "test_set", "snr_db", "wer", "num_utts"]
SYSTEMS = ["baseline", "noise", "importantaug", "null_importantaug"]


def load(hparams_file, preset_file, overrides):
    merged = {**(preset_overrides(preset_file, hparams_file) if preset_file else {}), **overrides}
    with open(hparams_file, encoding="utf-8") as f:
        return load_hyperpyyaml(f, yaml.safe_dump(merged))


def score(brain, hparams, manifest, out_txt, batch_size):
    """(WER in %, number of utterances) of the brain's recognizer on a manifest."""
    data = audio_dataset(manifest, hparams["task"]).filtered_sorted(sort_key="duration")
    brain.evaluate(data, progressbar=False,
                   test_loader_kwargs={"batch_size": batch_size, "num_workers": 0})
    stats = brain.stats["error"]
    os.makedirs(os.path.dirname(out_txt), exist_ok=True)
    with open(out_txt, "w", encoding="utf-8") as f:
        stats.write_stats(f)
    return float(stats.summarize("error_rate")), len(data)


def importance_figure(stft, generator_source, test_csv, out_png, num=3):
    """Maps of the generator on the first ``num`` test utterances."""
    generator = MaskGenerator(mask_padding=True)
    load_weights(generator, generator_source, "generator")
    rows = list(load_data_csv(test_csv).values())[:num]
    wavs = [read_wav(r["wav"]) for r in rows]
    with torch.no_grad():
        masks = [generator.eval()(stft.db(stft(w[None])))[0] for w in wavs]
    from iaug.plotting import plot_importance_maps
    return plot_importance_maps(wavs, masks, out_png, titles=[r["wrd"].lower() for r in rows], stft=stft)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hparams", required=True, help="recognizer hparams (baseline.yaml)")
    ap.add_argument("--preset")
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--exp_dir", required=True)
    ap.add_argument("--systems", nargs="+", help=f"default: those of {SYSTEMS} that exist")
    ap.add_argument("--vocab_size", type=int)
    ap.add_argument("--token_type")
    ap.add_argument("--batch_size", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s - %(message)s")

    overrides = {"data_dir": args.data_dir, "exp_dir": args.exp_dir,
                 "output_folder": os.path.join(args.exp_dir, "eval")}
    overrides.update({k: v for k, v in (("vocab_size", args.vocab_size),
                                        ("token_type", args.token_type)) if v})
    hparams = load(args.hparams, args.preset, overrides)
    os.makedirs(hparams["output_folder"], exist_ok=True)
    manifests = sorted(glob.glob(os.path.join(args.data_dir, "manifests", "test*.csv")))
    manifests += sorted(glob.glob(os.path.join(args.data_dir, "manifests", "noisy", "*.csv")),
                        key=lambda m: test_set_name(m)[1])
    if not manifests:
        print(f"evaluate.py: no test manifests under {args.data_dir}/manifests (run stage 1)",
              file=sys.stderr)
        return 1
    systems = args.systems or [s for s in SYSTEMS if os.path.isdir(os.path.join(args.exp_dir, s))]
    brain = RecognizerBrain(modules={"stft": hparams["stft"], "recognizer": hparams["recognizer"]},
                            hparams={**hparams, "noise_mixer": None, "frozen": []},
                            run_opts={"device": args.device, "noprogressbar": True})
    rows = []
    for system in systems:
        source = os.path.join(args.exp_dir, system)
        path = load_weights(hparams["recognizer"], source, "recognizer")
        logger.info("%s: recognizer from %s", system, path)
        for manifest in manifests:
            name, snr = test_set_name(manifest)
            tag = name if snr is None else f"{name}_snr{snr:g}"
            wer, n = score(brain, hparams, manifest, os.path.join(source, "eval", f"{tag}.txt"),
                           args.batch_size)
            rows.append({"system": system, "test_set": name, "snr_db": "" if snr is None else f"{snr:g}",
                         "wer": f"{wer:.2f}", "num_utts": n})
            print(json.dumps(rows[-1]), flush=True)
    results_csv = os.path.join(args.exp_dir, "results.csv")
    append_rows(results_csv, rows, fields=FIELDS)

    md = [f"# Results: {args.exp_dir}", "", results_markdown(read_rows(results_csv), metric="wer")]
    choices = dev_choices(args.exp_dir, metric="WER")
    if choices:
        md += ["Chosen on dev:", "", *choices, ""]
    try:
        from iaug.plotting import plot_error_vs_snr
        plot_error_vs_snr(results_csv, os.path.join(args.exp_dir, "wer_vs_snr.png"), metric="wer")
        md += ["![WER against SNR](wer_vs_snr.png)", ""]
        generator = os.path.join(args.exp_dir, "generator")
        if os.path.isdir(generator):
            importance_figure(hparams["stft"], generator, manifests[0],
                              os.path.join(args.exp_dir, "importance_maps.png"))
            md += ["![importance maps](importance_maps.png)", ""]
    except ImportError as err:  # plotting needs matplotlib
        logger.warning("no figures: %s", err)
    with open(os.path.join(args.exp_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
