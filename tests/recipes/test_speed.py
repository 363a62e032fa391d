"""The speed benchmark prints every stage's speed and its ratio to the bound."""

import json
import os
import subprocess
import sys

from helpers import ROOT, make_toy_corpus

SPEED = os.path.join(ROOT, "egs", "gsc_qut", "kws", "local", "speed.py")


def test_speed_benchmark_json(tmp_path):
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    proc = subprocess.run([sys.executable, SPEED, "--data_dir", corpus, "--steps", "2", "--warmup", "1",
                           "--batch_size", "4"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["bound_utt_per_s"] > 0 and result["batch_size"] == 4 and result["device"] == "cpu"
    assert set(result["stages"]) == {"baseline", "noise", "generator", "importantaug", "binarized"}
    for stage in result["stages"].values():
        assert stage["utt_per_s"] > 0
        assert abs(stage["ratio"] - stage["utt_per_s"] / result["bound_utt_per_s"]) < 0.01


def test_speed_benchmark_needs_a_prepared_corpus(tmp_path):
    proc = subprocess.run([sys.executable, SPEED, "--data_dir", str(tmp_path)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 1 and "run stages 0 and 1 first" in proc.stderr
