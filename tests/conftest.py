"""Shared fixtures: a toy corpus that needs no espeak-ng and builds in a second."""

import csv
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf
import speechbrain as sb

from iaug.data.gsc import GSC_LABELS
from iaug.models import Recognizer

REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference")
KWS_BASELINE = os.path.join(os.path.dirname(__file__), "..", "egs", "gsc_qut", "kws", "hparams",
                            "baseline.yaml")


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


@pytest.fixture
def toy_corpus(tmp_path):
    return make_toy_corpus(str(tmp_path / "toy"))


def run_script(script, *args, timeout=600):
    """Run a recipe's shell script; fail with its output's tail, else return it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(["bash", script, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def fake_kws_system(exp_dir, name="baseline"):
    """An experiment folder as the KWS recipe leaves it: hyperparams.yaml plus
    a checkpoint (random weights, no training needed)."""
    folder = os.path.join(exp_dir, name)
    sb.create_experiment_directory(folder, hyperparams_to_save=KWS_BASELINE,
                                   overrides={"data_dir": "unused", "output_folder": folder})
    save = os.path.join(folder, "save")
    worse = sb.utils.checkpoints.Checkpointer(save, {"recognizer": Recognizer()})
    worse.save_checkpoint(meta={"loss": 3.0})  # worse dev loss: not the one exported
    recognizer = Recognizer()
    sb.utils.checkpoints.Checkpointer(save, {"recognizer": recognizer}).save_checkpoint(meta={"loss": 2.0})
    return recognizer.eval()
