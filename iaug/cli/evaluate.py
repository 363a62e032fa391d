"""iaug-eval: score trained keyword recognizers on manifests or GSC-layout folders.

    iaug-eval --exp_dir exp --system importantaug --data_dir my_test_words/
    iaug-eval --exp_dir exp --system baseline noise authors=ckpt.pt \\
        --manifest data/manifests/test.csv data/manifests/noisy/*.csv \\
        --results_csv exp/results.csv

A system is a folder under ``--exp_dir`` (its best checkpoint by dev loss) or
``NAME=SOURCE`` with SOURCE any checkpoint :func:`iaug.checkpoints.load_state`
reads. Per-utterance decisions go to ``<exp_dir>/<system>/eval/<set>.csv``
(for paired significance tests); each score is printed as one JSON line.
A rerun reads the score back from those decisions when they are newer than
both the checkpoint and the manifest, so rerunning a recipe's scoring stage
costs nothing; ``--rescore`` scores again regardless.
"""

import argparse
import csv
import json
import logging
import os
import sys

import torch
import speechbrain as sb

from iaug.checkpoints import checkpoint_file, load_state
from iaug.dataio import audio_dataset, folder_manifest
from iaug.features import STFT
from iaug.models import Recognizer
from iaug.scoring import append_rows, test_set_name
from iaug.tasks import KeywordSpotting

logger = logging.getLogger(__name__)


def load_recognizer(source):
    state, path = load_state(source, "recognizer")
    recognizer = Recognizer(num_classes=state["linear3.weight"].shape[0])
    recognizer.load_state_dict(state)
    logger.info("recognizer from %s", path)
    return recognizer.eval()


@torch.no_grad()
def score(recognizer, dataset, task, batch_size=256, device="cpu"):
    """Return the decisions: [(id, reference, hypothesis), ...]."""
    stft = STFT().to(device)
    recognizer = recognizer.to(device)
    loader = sb.dataio.dataloader.make_dataloader(dataset, batch_size=batch_size)
    decisions = []
    for batch in loader:
        batch = batch.to(device)
        wavs, lens = batch.sig
        spec = stft(wavs)
        log_probs = recognizer(stft.db(spec), stft.frame_mask(lens, spec.shape[-1]))
        hyps = log_probs.argmax(-1).tolist()
        decisions += [(i, task.labels[r], task.labels[h])
                      for i, r, h in zip(batch.id, batch.label_id.tolist(), hyps)]
    return decisions


def write_decisions(path, decisions):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["ID", "label", "prediction", "correct"])
        writer.writerows([(i, r, h, int(r == h)) for i, r, h in decisions])


def read_decisions(path, *sources):
    """The decisions saved in ``path``, or None unless it is newer than every source."""
    if not os.path.isfile(path) or any(os.path.getmtime(s) >= os.path.getmtime(path) for s in sources):
        return None
    with open(path, newline="", encoding="utf-8") as f:
        return [(row["ID"], row["label"], row["prediction"]) for row in csv.DictReader(f)]


def parse_system(spec, exp_dir):
    name, _, source = spec.partition("=")
    return name, source or os.path.join(exp_dir, name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp_dir", default="exp")
    parser.add_argument("--system", nargs="+", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data_dir", help="a folder in GSC layout: <word>/*.wav")
    source.add_argument("--manifest", nargs="+", help="SpeechBrain CSV manifests")
    parser.add_argument("--results_csv", help="append one row per system and set")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rescore", action="store_true",
                        help="score again even where the saved decisions are up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s - %(message)s")

    task = KeywordSpotting()
    try:
        if args.data_dir:
            sets = [(os.path.basename(os.path.normpath(args.data_dir)), None, args.data_dir,
                     folder_manifest(args.data_dir, task.labels))]
        else:
            sets = [(*test_set_name(m), m, m) for m in args.manifest]
        rows = []
        for spec in args.system:
            name, src = parse_system(spec, args.exp_dir)
            ckpt, recognizer = checkpoint_file(src, "recognizer"), None
            for set_name, snr, where, manifest in sets:
                tag = set_name if snr is None else f"{set_name}_snr{snr:g}"
                out = os.path.join(args.exp_dir, name, "eval", f"{tag}.csv")
                decisions = None if args.rescore or args.data_dir else read_decisions(out, ckpt, manifest)
                if decisions is None:
                    if recognizer is None:
                        recognizer = load_recognizer(src)
                    decisions = score(
                        recognizer, audio_dataset(manifest, task), task, args.batch_size, args.device)
                    write_decisions(out, decisions)
                else:
                    logger.info("%s on %s: decisions up to date in %s, not rescored", name, tag, out)
                total = len(decisions)
                rate = 100.0 * sum(ref != hyp for _, ref, hyp in decisions) / total
                rows.append({"system": name, "test_set": set_name,
                             "snr_db": "" if snr is None else f"{snr:g}",
                             "error_rate": f"{rate:.4f}", "num_utts": total})
                print(json.dumps({"system": name, "data_dir" if args.data_dir else "manifest": where,
                                  "test_set": tag, "error_rate": rate, "num_utts": total}), flush=True)
    except (FileNotFoundError, ValueError) as err:
        print(f"iaug-eval: error: {err}", file=sys.stderr)
        return 1
    if args.results_csv:
        append_rows(args.results_csv, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
