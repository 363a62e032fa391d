"""Reruns repeat: the same command and seed give the same weights and
decisions, also with another number of data-loader workers; the number of
torch threads is pinned by the recipes (another number is another float
summation order, see the README)."""

import os
import subprocess
import sys

import torch

from helpers import KWS_BASELINE as BASELINE, KWS_HPARAMS, ROOT, make_toy_corpus
from iaug.checkpoints import load_state

NOISE = os.path.join(KWS_HPARAMS, "noise.yaml")


def train(hparams, corpus, exp, system, workers, threads=1, in_memory="auto"):
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "recipes", "train_recognizer.py"), hparams,
         "--data_dir", corpus, "--exp_dir", exp, "--output_folder", os.path.join(exp, system),
         "--number_of_epochs", "2", "--batch_size", "8", "--num_workers", str(workers),
         "--audio_in_memory", str(in_memory)],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return load_state(os.path.join(exp, system), "recognizer")[0]


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_same_bytes_with_any_number_of_loader_workers_and_in_memory_audio(tmp_path):
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    runs = {}
    # decoded once into memory or read per batch, with or without workers
    for workers, in_memory in ((0, True), (2, True), (0, False), (2, False)):
        exp = str(tmp_path / f"exp{len(runs)}")
        base = train(BASELINE, corpus, exp, "baseline", workers, in_memory=in_memory)
        noise = train(NOISE, corpus, exp, "noise", workers, in_memory=in_memory)
        runs[len(runs)] = (base, noise)
    for base, noise in list(runs.values())[1:]:
        assert same(base, runs[0][0]) and same(noise, runs[0][1])
