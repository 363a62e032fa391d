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
    networks = result["networks"]
    assert set(networks) == {"recognizer_step", "generator_forward", "generator_step"}
    assert min(networks.values()) > 0 and result["batch_size"] == 4 and result["device"] == "cpu"
    assert result["frontend"] == "stable"  # run.sh's default
    stages = result["stages"]
    assert set(stages) == {"baseline", "noise", "generator", "importantaug", "binarized"}
    for stage in stages.values():
        assert stage["utt_per_s"] > 0
        assert abs(stage["ratio"] - stage["utt_per_s"] / stage["bound_utt_per_s"]) < 0.01
    # what each stage's networks are: the recognizer's step alone, with the
    # generator's forward in half the batches (the paper's policy) or all
    recognizer, forward = networks["recognizer_step"], networks["generator_forward"]
    assert stages["baseline"]["bound_utt_per_s"] == stages["noise"]["bound_utt_per_s"] == recognizer
    assert abs(stages["importantaug"]["bound_utt_per_s"] - 1 / (1 / recognizer + 0.5 / forward)) < 0.2
    assert abs(stages["binarized"]["bound_utt_per_s"] - 1 / (1 / recognizer + 1 / forward)) < 0.2
    assert stages["generator"]["bound_utt_per_s"] == networks["generator_step"]


def test_speed_benchmark_needs_a_prepared_corpus(tmp_path):
    proc = subprocess.run([sys.executable, SPEED, "--data_dir", str(tmp_path)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 1 and "run stages 0 and 1 first" in proc.stderr
