#!/usr/bin/env python3
"""Training speed of every stage against the bound of its networks.

    python local/speed.py --data_dir data/synth [--device cpu|cuda] [--frontend stable|paper] [--steps 30]

On the same prepared corpus, in one run: the networks alone on a few fixed
in-memory batches of spectrograms, at the recipe's batch size (the
recognizer's forward, backward and Adam update; the frozen generator's
forward; stage A's step: the generator's forward, the frozen recognizer's
forward and backward, Adam on the generator), then each training stage as
the recipe runs it (its hparams file, data loader, STFT, noise, mask policy,
Brain ``fit_batch``) for ``--steps`` batches after ``--warmup``, timed in
three runs of which the fastest counts (the networks alike). A stage's
bound is the networks it must run per batch: the recognizer's step, plus the
generator's forward in the share of batches whose mask it reads (ImportantAug:
the policy's ``prob``; Binarized: every batch), or stage A's step; what the
stage takes beyond it is the recipe's own cost. Weights are random (speed
does not depend on them). The last line printed is one JSON object:
``{"networks": {name: utt_per_s}, "stages": {name: {"utt_per_s",
"bound_utt_per_s", "ratio"}}, "device", "batch_size", "threads", "steps"}``.
"""

import argparse
import json
import os
import subprocess
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
import yaml

from iaug.brains import GeneratorBrain, RecognizerBrain
from iaug.dataio import audio_dataset
from iaug.policies import BinarizedMask, RolledMaskOrOnes
from iaug.hparams import preset_overrides
from iaug.recipe import keep_freed_memory, load

HPARAMS = Path(__file__).resolve().parents[1] / "hparams"
ROOT = Path(__file__).resolve().parents[4]
STAGES = {"baseline": ("baseline", RecognizerBrain), "noise": ("noise", RecognizerBrain),
          "generator": ("generator", GeneratorBrain), "importantaug": ("importantaug", RecognizerBrain),
          "binarized": ("binarized", RecognizerBrain)}


def per_second(fn, steps, warmup, batch_size, device, repeats=3):
    """Utterances per second of ``fn()`` (one batch): ``steps`` calls timed
    in ``repeats`` runs, the fastest run's rate (as ``timeit``: a run slowed
    by something else on the machine says nothing of the code)."""
    for _ in range(warmup):
        fn()
    rates = []
    for run in range(repeats):
        calls = steps // repeats + (run < steps % repeats)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if calls:
            rates.append(calls * batch_size / (time.perf_counter() - start))
    return max(rates)


def frontend_overrides(name):
    """run.sh's ``--frontend NAME`` overrides, as ``tools/recipe_lib.sh`` spells them."""
    out = subprocess.run(["bash", "-c", f". tools/recipe_lib.sh && frontend_overrides {name}"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return {key.lstrip("-"): yaml.safe_load(value) for key, value in zip(out[::2], out[1::2])}


def build(name, args, exp_dir):
    stem, brain_class = STAGES[name]
    hparams_file = HPARAMS / f"{stem}.yaml"
    overrides = {**(preset_overrides(args.preset, hparams_file) if args.preset else {}),
                 "data_dir": args.data_dir, "exp_dir": exp_dir, "batch_size": args.batch_size,
                 "init_recognizer": None, **frontend_overrides(args.frontend)}
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

    return per_second(step, args.steps, args.warmup, args.batch_size, args.device), hparams


def network_speeds(args, exp_dir):
    """Utterances per second of the networks alone on one fixed batch of dB
    spectrograms: the recognizer's training step, the frozen generator's
    forward, and stage A's step."""
    brain, hparams = build("generator", args, exp_dir)
    data = audio_dataset(hparams["train_csv"], hparams["task"])
    # a few of the stages' own (shuffled) batches: the speed of the paper's
    # front-end depends on the values (denormal floats from digital silence)
    loader = iter(sb.dataio.dataloader.make_dataloader(data, **hparams["train_dataloader_opts"]))
    stft, recognizer, generator = (brain.modules.stft, brain.modules.recognizer,
                                   brain.modules.generator)
    fixed = []
    with torch.no_grad():
        for batch in (next(loader) for _ in range(min(4, len(data) // args.batch_size or 1))):
            batch = batch.to(args.device)
            fixed.append((stft.db(stft(batch.sig[0])), batch.label_id))
    turn = 0

    def next_fixed():
        nonlocal turn
        turn += 1
        return fixed[turn % len(fixed)]

    rec_opt = torch.optim.Adam(recognizer.parameters(), lr=1e-3)
    gen_opt = torch.optim.Adam(generator.parameters(), lr=1e-3)

    def recognizer_step():
        spec_db, labels = next_fixed()
        rec_opt.zero_grad()
        torch.nn.functional.nll_loss(recognizer(spec_db), labels).backward()
        rec_opt.step()

    def generator_forward():
        spec_db, _ = next_fixed()
        with torch.no_grad():
            generator(spec_db)

    def generator_step():  # the mask's effect stood in by adding it: the mixing is the recipe's
        spec_db, labels = next_fixed()
        gen_opt.zero_grad()
        mask = generator(spec_db).clamp(1e-4, 1 - 1e-4)
        loss = torch.nn.functional.nll_loss(recognizer(spec_db + mask), labels) - mask.log().mean()
        loss.backward()
        gen_opt.step()

    recognizer.train().requires_grad_(True)  # the generator's brain froze it
    speeds = {"recognizer_step": per_second(recognizer_step, args.steps, args.warmup,
                                            args.batch_size, args.device)}
    recognizer.eval().requires_grad_(False)
    generator.eval()
    speeds["generator_forward"] = per_second(generator_forward, args.steps, args.warmup,
                                             args.batch_size, args.device)
    generator.train()
    speeds["generator_step"] = per_second(generator_step, args.steps, args.warmup,
                                          args.batch_size, args.device)
    return speeds


def stage_bound(name, networks, hparams):
    """Utterances per second of the networks stage ``name`` runs per batch."""
    if name == "generator":
        return networks["generator_step"]
    policy = getattr(hparams.get("noise_mixer"), "policy", None)
    share = {RolledMaskOrOnes: getattr(policy, "prob", 0.0), BinarizedMask: 1.0}.get(type(policy), 0.0)
    seconds = 1.0 / networks["recognizer_step"] + share / networks["generator_forward"]
    return 1.0 / seconds


def main(argv=None):
    keep_freed_memory()  # as the recipe's processes
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True, help="a prepared corpus (stages 0 and 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=256, help="the recipe's (paper: 256)")
    parser.add_argument("--frontend", choices=["stable", "paper"], default="stable",
                        help="run.sh's --frontend (default: its default)")
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
        networks = network_speeds(args, exp_dir)
        print("networks alone: " + ", ".join(f"{k} {v:.1f} utt/s" for k, v in networks.items()),
              flush=True)
        stages = {}
        for name in args.stages:
            speed, hparams = stage_speed(name, args, exp_dir)
            bound = stage_bound(name, networks, hparams)
            stages[name] = {"utt_per_s": round(speed, 1), "bound_utt_per_s": round(bound, 1),
                            "ratio": round(speed / bound, 3)}
            print(f"{name}: {speed:.1f} utt/s ({speed / bound:.0%} of its bound, {bound:.1f})",
                  flush=True)
    print(json.dumps({"networks": {k: round(v, 1) for k, v in networks.items()},
                      "stages": stages, "device": args.device, "frontend": args.frontend,
                      "in_memory": args.in_memory,
                      "batch_size": args.batch_size, "threads": torch.get_num_threads(),
                      "steps": args.steps}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
