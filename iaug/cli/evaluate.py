"""iaug-eval: score trained systems of any recipe and task on test sets.

    iaug-eval --exp_dir exp --system baseline importantaug \\
        --manifest data/manifests/test.csv data/manifests/noisy/*.csv \\
        --results_csv exp/results.csv
    iaug-eval --exp_dir exp --system importantaug --data_dir my_test_words/
    iaug-eval --exp_dir exp --system authors=ckpt.pt --hparams hparams/baseline.yaml \\
        --overrides "{data_dir: data}" --manifest data/manifests/test.csv

A system is a folder under ``--exp_dir``, rebuilt from its own
``hyperparams.yaml`` and scored at its best checkpoint by dev loss through
its Brain (:mod:`iaug.evaluate`), or ``NAME=CHECKPOINT`` (e.g. the authors'
``.pt``) built from ``--hparams``. Per-utterance decisions go to
``<exp_dir>/<system>/eval/<set>.csv``; they are reused only when they were
made by the same checkpoint on the same manifest contents (``--rescore``
scores again regardless). ``--data_dir`` scores a folder in Speech Commands
layout (``<label>/*.wav``) with a label task. Each score is printed as one
JSON line; ``--results_csv`` is written whole, with this call's rows only
(``--append``: kept rows of other systems and sets too).
"""

import argparse
import hashlib
import json
import logging
import os
import sys

import yaml

from iaug.dataio import error_line, folder_manifest
from iaug.evaluate import System
from iaug.recipe import check_device, keep_freed_memory
from iaug.scoring import append_rows, result_row, test_set_name, write_results

logger = logging.getLogger(__name__)


def parse_system(spec, exp_dir):
    name, _, source = spec.partition("=")
    return name, source or os.path.join(exp_dir, name)


def set_tag(manifest):
    name, snr = test_set_name(manifest)
    return name if snr is None else f"{name}_snr{snr:g}"


def main(argv=None):
    keep_freed_memory()
    parser = argparse.ArgumentParser(prog="iaug-eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp_dir", default="exp")
    parser.add_argument("--system", nargs="+", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data_dir", help="a folder in Speech Commands layout: <label>/*.wav")
    source.add_argument("--manifest", nargs="+", help="SpeechBrain CSV manifests")
    parser.add_argument("--hparams", help="hparams building the recognizer of a NAME=CHECKPOINT system")
    parser.add_argument("--overrides", default="", help="yaml overrides of those hparams")
    parser.add_argument("--results_csv", help="write the scores as a results table")
    parser.add_argument("--append", action="store_true", help="keep the table's other rows")
    parser.add_argument("--batch_size", type=int, help="default: the system's dev batch size")
    parser.add_argument("--num_workers", type=int,
                        help="processes reading the audio; default: the system's dev loader's "
                             "for manifests, none for --data_dir (its conversion warnings in order)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rescore", action="store_true",
                        help="score again even where saved decisions match")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s - %(message)s")

    rows = []
    try:
        check_device(args.device)
        overrides = yaml.safe_load(args.overrides) or {}
        for spec in args.system:
            name, src = parse_system(spec, args.exp_dir)
            system = System(name, src, hparams_file=args.hparams if "=" in spec else None,
                            overrides=overrides if "=" in spec else None, device=args.device,
                            eval_dir=os.path.join(args.exp_dir, name, "eval"))
            if args.data_dir:
                labels = getattr(system.task, "labels", None)
                if labels is None:
                    raise ValueError("--data_dir needs a task with labels; give --manifest")
                manifest = folder_manifest(args.data_dir, labels)
                folder = os.path.basename(os.path.normpath(args.data_dir))
                digest = hashlib.sha256(os.path.abspath(args.data_dir).encode()).hexdigest()[:8]
                # keyed by the folder's path: a foreign folder never takes a test set's place
                sets = [(folder, f"dir_{folder}_{digest}", manifest, args.data_dir)]
            else:
                sets = [(m, set_tag(m), m, m) for m in args.manifest]
            for set_name, tag, manifest, where in sets:
                workers = 0 if args.data_dir and args.num_workers is None else args.num_workers
                score = system.score(manifest, tag, args.batch_size, args.rescore, workers)
                rows.append(result_row(name, set_name, score["error_rate"], score["num_utts"]))
                print(json.dumps({"system": name, "data_dir" if args.data_dir else "manifest": where,
                                  "test_set": tag, "error_rate": score["error_rate"],
                                  "num_utts": score["num_utts"],
                                  "decisions": score["decisions"]}), flush=True)
    except (FileNotFoundError, ValueError, FloatingPointError, yaml.YAMLError) as err:
        print(f"iaug-eval: error: {error_line(err)}", file=sys.stderr)
        return 1
    if args.results_csv:
        (append_rows if args.append else write_results)(args.results_csv, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
