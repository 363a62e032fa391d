"""What the tests share: a toy corpus that needs no espeak-ng and builds in a
second, seeded stand-ins for the authors' checkpoint, where the real one is
found, and a recipe's run.sh run as a user runs it (tests/ is on the path:
`pythonpath` in setup.cfg).

The authors' checkpoint and reference outputs (`importantaug_clf_frozen.pt`,
`reference_outputs.npz`) are read from ONE folder: `$IAUG_REFERENCE_DIR`,
by default `../shared/reference` beside the repository. Tests that need them
(parity with the authors) call :func:`reference_file`: a missing file skips the
test, unless `IAUG_REFERENCE_DIR` is set (as `.ci/run` does), when it fails.
Every other test uses :func:`make_generator_ckpt` / :func:`make_authors_ckpt`.
"""

import contextlib
import csv
import importlib.util
import io
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf
import speechbrain as sb
import torch

from iaug.data.gsc import GSC_LABELS
from iaug.models import MaskGenerator, Recognizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository
EGS = os.path.join(ROOT, "egs")
KWS_HPARAMS = os.path.join(EGS, "gsc_qut", "kws", "hparams")
RECIPES = {"kws": os.path.join(EGS, "gsc_qut", "kws", "run.sh"),  # each recipe's run.sh
           "asr": os.path.join(EGS, "librispeech", "asr", "run.sh"),
           "digits": os.path.join(EGS, "gsc_qut", "digits", "run.sh")}

REFERENCE_ENV = "IAUG_REFERENCE_DIR"
DEFAULT_REFERENCE_DIR = os.path.join(ROOT, "..", "shared", "reference")
REFERENCE_DIR = os.path.abspath(os.environ.get(REFERENCE_ENV) or DEFAULT_REFERENCE_DIR)
REFERENCE_HOW = {
    "importantaug_clf_frozen.pt": "fetch it with `python3 -m iaug.cli.fetch_reference --out DIR` "
                                  f"and set {REFERENCE_ENV}=DIR",
    "reference_outputs.npz": "it is not public: set "
                             f"{REFERENCE_ENV} to a folder holding it (the authors' shared/reference)",
}
KWS_BASELINE = os.path.join(KWS_HPARAMS, "baseline.yaml")


# The front-end record of an experiment trained with the KWS recipe's stable
# front-end (its resolved hyperparams.yaml, the part a reused generator reads).
STABLE_FRONTEND_HPARAMS = ("top_db: 80\nstft: !new:iaug.models.STFT\n    n_fft: 512\n"
                           "    hop_length: 128\n    top_db: 80\n")


def reference_file(name):
    """Path of the authors' file `name` in the reference folder. Missing: the
    test is skipped, or fails when $IAUG_REFERENCE_DIR was set explicitly."""
    path = os.path.join(REFERENCE_DIR, name)
    if os.path.isfile(path):
        return path
    why = f"{name} not in {REFERENCE_DIR}"
    if os.environ.get(REFERENCE_ENV):
        pytest.fail(f"{why} (${REFERENCE_ENV} is set)", pytrace=False)
    pytest.skip(f"{why}: {REFERENCE_HOW.get(name, 'set ' + REFERENCE_ENV)}")


REAL_SPEECH_ENV = "IAUG_REAL_SPEECH_DIR"
DEFAULT_REAL_SPEECH_DIR = os.path.join(ROOT, "..", "shared", "data", "fsdd")


def real_speech_dir():
    """The folder of recordings of people (Speech Commands layout) that
    checks on real speech read: `$IAUG_REAL_SPEECH_DIR`, by default
    `../shared/data/fsdd` beside the repository. Missing: the test is
    skipped, or fails when the variable was set explicitly (as .ci/run does)."""
    path = os.path.abspath(os.environ.get(REAL_SPEECH_ENV) or DEFAULT_REAL_SPEECH_DIR)
    if os.path.isdir(path):
        return path
    if os.environ.get(REAL_SPEECH_ENV):
        pytest.fail(f"no recordings of people in {path} (${REAL_SPEECH_ENV} is set)", pytrace=False)
    pytest.skip(f"no recordings of people in {path}: set {REAL_SPEECH_ENV} to a folder of them")


def make_generator_ckpt(path, seed=0):
    """A seeded, untrained :class:`MaskGenerator` saved as a `generator.ckpt`
    state dict (what `load_generator`/`load_state` read); returns the path."""
    with torch.random.fork_rng(devices=[]):  # the global RNG stays as it was
        torch.manual_seed(seed)
        torch.save(MaskGenerator().state_dict(), path)
    return str(path)


def make_authors_ckpt(path, seed=0, num_classes=35):
    """A seeded checkpoint in the authors' format (`importantaug_clf_frozen.pt`:
    ``{'model_state_dict': {'classifier.<k>': ..., 'gen.<k>': ...}}``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator, recognizer = MaskGenerator(), Recognizer(num_classes=num_classes)
    state = {**{f"classifier.{k}": v for k, v in recognizer.state_dict().items()},
             **{f"gen.{k}": v for k, v in generator.state_dict().items()}}
    torch.save({"model_state_dict": state}, path)
    return str(path)


def write_manifest(path, rows, fields):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def make_toy_corpus(root, labels=GSC_LABELS[:4], per_label=6, seed=0):
    """Tones whose pitch encodes the label, plus white-noise clips as the bank."""
    rng = np.random.default_rng(seed)
    t = np.arange(16000) / 16000
    os.makedirs(os.path.join(root, "manifests"), exist_ok=True)
    splits = {"train": [], "dev": [], "test": []}
    for k, label in enumerate(labels):
        os.makedirs(os.path.join(root, "wav", label), exist_ok=True)
        for i in range(per_label):
            wav = 0.3 * np.sin(2 * np.pi * (300 + 250 * k) * t) + 0.003 * rng.standard_normal(16000)
            path = os.path.join(root, "wav", label, f"spk{i}_nohash_0.wav")
            sf.write(path, wav.astype("float32"), 16000, subtype="PCM_16")
            split = "train" if i < per_label - 2 else ("dev" if i == per_label - 2 else "test")
            splits[split].append(
                {"ID": f"{label}_{i}", "duration": 1.0, "wav": path, "label": label, "speaker": f"spk{i}"}
            )
    for split, rows in splits.items():
        write_manifest(os.path.join(root, "manifests", f"{split}.csv"), rows,
                       ["ID", "duration", "wav", "label", "speaker"])
    noise_rows = []
    os.makedirs(os.path.join(root, "noise"), exist_ok=True)
    for i in range(4):
        path = os.path.join(root, "noise", f"n{i}.wav")
        sf.write(path, (0.1 * rng.standard_normal(16000)).astype("float32"), 16000)
        noise_rows.append({"ID": f"n{i}", "duration": 1.0, "wav": path, "wav_format": "wav", "wav_opts": ""})
    for split in ("train", "dev"):
        write_manifest(os.path.join(root, "manifests", f"noise_{split}.csv"), noise_rows,
                       ["ID", "duration", "wav", "wav_format", "wav_opts"])
    return root


KWS_PREPARE = os.path.join(EGS, "gsc_qut", "kws", "local", "prepare_data.py")


def load_script(path):
    """A recipe's script (which is no package module) imported by its path,
    once per session: its ``main(argv)`` runs without a Python start-up."""
    name = "script_" + os.path.relpath(path, ROOT).replace(os.sep, "_").replace(".", "_")
    module = _SCRIPTS.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _SCRIPTS[name] = module
    return module


_SCRIPTS = {}


def call_main(script, *args):
    """``main(args)`` of a script in this process, as a finished command:
    its return value and what it printed (``.returncode``, ``.stdout``,
    ``.stderr``). Prints of forked workers are not in it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = load_script(script).main([str(a) for a in args])
    return subprocess.CompletedProcess([script, *args], code, out.getvalue(), err.getvalue())


def prepare_kws_data(*args):
    """The KWS recipe's local/prepare_data.py with these arguments, in this process."""
    return call_main(KWS_PREPARE, *args)


def build_tiny_synth(data_dir, nj=2):
    """run.sh stages 0-1 on the tiny synth corpus, in this process; returns
    the manifests step's result."""
    for cmd in (["download", "--corpus", "synth", "--preset", "tiny"], ["manifests"]):
        r = prepare_kws_data(*cmd, "--data_dir", data_dir, "--nj", nj)
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def run_script(script, *args, timeout=600, env=None):
    """Run a recipe's shell script (``env``: variables to add); fail with its
    output's tail, else return it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.run(["bash", script, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def fake_kws_system(exp_dir, name="baseline", overrides=None):
    """An experiment folder as the KWS recipe leaves it: hyperparams.yaml plus
    a checkpoint (random weights, no training needed). ``overrides``: e.g. the
    stable front-end's ``{"top_db": 80, "normalize_input": True}``."""
    folder = os.path.join(exp_dir, name)
    overrides = {"data_dir": "unused", "output_folder": folder, **(overrides or {})}
    sb.create_experiment_directory(folder, hyperparams_to_save=KWS_BASELINE, overrides=overrides)
    normalize = overrides.get("normalize_input", False)
    save = os.path.join(folder, "save")
    worse = sb.utils.checkpoints.Checkpointer(save, {"recognizer": Recognizer(normalize=normalize)})
    worse.save_checkpoint(meta={"loss": 3.0})  # worse dev loss: not the one exported
    recognizer = Recognizer(normalize=normalize)
    sb.utils.checkpoints.Checkpointer(save, {"recognizer": recognizer}).save_checkpoint(meta={"loss": 2.0})
    return recognizer.eval()
