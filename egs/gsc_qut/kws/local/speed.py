#!/usr/bin/env python3
"""Training speed of every stage against the bare model's bound.

    python local/speed.py --data_dir data/synth [--device cpu|cuda] [--steps 30]

On the same prepared corpus, in one run: the bound (forward, backward and
Adam update of the recognizer on one fixed in-memory batch of spectrograms,
at the recipe's batch size), then each training stage as the recipe runs it
(its hparams file, data loader, augmentation, Brain ``fit_batch``) for
``--steps`` batches after ``--warmup``. Weights are random (speed does not
depend on them). The last line printed is one JSON object:
``{"bound_utt_per_s", "stages": {name: {"utt_per_s", "ratio"}}, "device",
"batch_size", "threads", "steps"}``.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

try:
    import iaug  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import torch
import speechbrain as sb

from iaug.brains import GeneratorBrain, RecognizerBrain
from iaug.dataio import audio_dataset
from iaug.recipe import load, preset_overrides

HPARAMS = Path(__file__).resolve().parents[1] / "hparams"
STAGES = {"baseline": ("baseline", RecognizerBrain), "noise": ("noise", RecognizerBrain),
          "generator": ("generator", GeneratorBrain), "importantaug": ("importantaug", RecognizerBrain),
          "binarized": ("binarized", RecognizerBrain)}


def per_second(fn, steps, warmup, batch_size, device):
    """Utterances per second of ``fn()`` (one batch) over ``steps`` calls."""
    for _ in range(warmup):
        fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - start)


def build(name, args, exp_dir):
    stem, brain_class = STAGES[name]
    hparams_file = HPARAMS / f"{stem}.yaml"
    overrides = {**(preset_overrides(args.preset, hparams_file) if args.preset else {}),
                 "data_dir": args.data_dir, "exp_dir": exp_dir, "batch_size": args.batch_size,
                 "init_recognizer": None}
    if stem in ("importantaug", "binarized", "generator"):
        overrides["init_generator"] = None
    overrides = {k: v for k, v in overrides.items() if not k.endswith("_candidates")}
    hparams = load(str(hparams_file), overrides)
    brain = brain_class(modules=hparams["modules"], opt_class=hparams["opt_class"], hparams=hparams,
                        run_opts={"device": args.device, "noprogressbar": True},
                        checkpointer=None)
    brain.on_fit_start()
    return brain, hparams


def stage_speed(name, args, exp_dir):
    brain, hparams = build(name, args, exp_dir)
    in_memory = hparams.get("audio_in_memory", False) if args.in_memory is None else args.in_memory
    data = audio_dataset(hparams["train_csv"], hparams["task"], in_memory=in_memory)
    loader = sb.dataio.dataloader.make_dataloader(data, **hparams["train_dataloader_opts"])
    brain.on_stage_start(sb.Stage.TRAIN, 1)
    brain.modules.train()
    for name_ in hparams.get("frozen") or []:
        getattr(brain.modules, name_).eval()
    batches = iter(loader)

    def step():
        nonlocal batches
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        brain.fit_batch(batch)

    return per_second(step, args.steps, args.warmup, args.batch_size, args.device)


def bound_speed(args, exp_dir):
    """The recognizer alone on one fixed batch of dB spectrograms."""
    brain, hparams = build("baseline", args, exp_dir)
    data = audio_dataset(hparams["train_csv"], hparams["task"])
    batch = next(iter(sb.dataio.dataloader.make_dataloader(data, batch_size=args.batch_size)))
    batch = batch.to(args.device)
    stft, recognizer = brain.modules.stft, brain.modules.recognizer
    with torch.no_grad():
        spec_db = stft.db(stft(batch.sig[0]))
    optimizer = torch.optim.Adam(recognizer.parameters(), lr=1e-3)
    labels = batch.label_id
    recognizer.train()

    def step():
        optimizer.zero_grad()
        torch.nn.functional.nll_loss(recognizer(spec_db), labels).backward()
        optimizer.step()

    return per_second(step, args.steps, args.warmup, args.batch_size, args.device)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True, help="a prepared corpus (stages 0 and 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=256, help="the recipe's (paper: 256)")
    parser.add_argument("--preset", help="a preset whose other settings apply (e.g. num_workers)")
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=list(STAGES))
    parser.add_argument("--in_memory", choices=["auto", "true", "false"],
                        help="override the hparams' audio_in_memory (false: read every clip per batch)")
    args = parser.parse_args(argv)
    args.in_memory = {"true": True, "false": False}.get(args.in_memory, args.in_memory)
    if not os.path.isfile(os.path.join(args.data_dir, "manifests", "train.csv")):
        print(f"speed.py: no manifests in {args.data_dir}: run stages 0 and 1 first", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as exp_dir:
        bound = bound_speed(args, exp_dir)
        print(f"bound: {bound:.1f} utt/s", flush=True)
        stages = {}
        for name in args.stages:
            speed = stage_speed(name, args, exp_dir)
            stages[name] = {"utt_per_s": round(speed, 1), "ratio": round(speed / bound, 3)}
            print(f"{name}: {speed:.1f} utt/s ({speed / bound:.0%} of the bound)", flush=True)
    print(json.dumps({"bound_utt_per_s": round(bound, 1), "stages": stages, "device": args.device,
                      "in_memory": args.in_memory,
                      "batch_size": args.batch_size, "threads": torch.get_num_threads(),
                      "steps": args.steps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
