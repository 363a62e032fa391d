"""egs/gsc_qut/digits: the tiny preset end to end (baseline against ImportantAug,
results, export round trip, importance maps), on the toy corpus."""

import csv
import os
import shutil
import subprocess

import pytest
import torch
from hyperpyyaml import load_hyperpyyaml

from conftest import make_generator_ckpt, make_toy_corpus
from iaug.checkpoints import load_weights
from iaug.data.audio import read_audio as read_wav
from iaug.inference import ImportantAugClassifier, wav_log_probs

RECIPE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "egs", "gsc_qut", "digits")


@pytest.mark.slow
def test_tiny_preset(tmp_path):
    data = make_toy_corpus(str(tmp_path / "data"), labels=["zero", "one", "two", "bed"])
    noisy = os.path.join(data, "manifests", "noisy")
    os.makedirs(noisy)
    for snr in ("0", "-12.5"):  # stand-ins for the noisy test sets (same columns)
        shutil.copy(os.path.join(data, "manifests", "test.csv"), os.path.join(noisy, f"qut_snr{snr}.csv"))
    exp = str(tmp_path / "exp")
    generator = make_generator_ckpt(tmp_path / "generator.ckpt")  # any generator will do
    proc = subprocess.run(
        ["bash", os.path.join(RECIPE, "run.sh"), "--preset", "tiny", "--data_dir", data,
         "--exp_dir", exp, "--generator", generator],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the paper's protocol (default): ImportantAug starts from the trained baseline
    assert "initialised recognizer from " + os.path.join(exp, "baseline") in proc.stdout + proc.stderr

    # data: digits only
    with open(os.path.join(exp, "manifests", "train.csv"), encoding="utf-8") as f:
        assert {row["label"] for row in csv.DictReader(f)} == {"zero", "one", "two"}
    # results: both systems on the clean and the noisy test sets
    with open(os.path.join(exp, "results.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["system"], r["test_set"], r["snr_db"]) for r in rows} == {
        (s, t, snr) for s in ("baseline", "importantaug")
        for t, snr in (("test", ""), ("qut", "0"), ("qut", "-12.5"))}
    assert all(r["num_utts"] == "3" for r in rows)
    assert "| importantaug |" in open(os.path.join(exp, "results.md"), encoding="utf-8").read()
    for png in ("error_vs_snr.png", "importance_maps.png"):
        assert os.path.getsize(os.path.join(exp, png)) > 0

    # the exported baseline predicts what the trained modules predict
    model = ImportantAugClassifier.from_hparams(source=os.path.join(exp, "models", "baseline"),
                                                savedir=str(tmp_path / "sd"))
    with open(os.path.join(exp, "baseline", "hyperparams.yaml"), encoding="utf-8") as f:
        hparams = load_hyperpyyaml(f)
    load_weights(hparams["recognizer"], os.path.join(exp, "baseline"), "recognizer")
    modules = torch.nn.ModuleDict(hparams["modules"]).eval()
    with open(os.path.join(exp, "manifests", "test.csv"), encoding="utf-8") as f:
        wavs = torch.stack([read_wav(row["wav"]) for row in csv.DictReader(f)])
    with torch.no_grad():
        before = wav_log_probs(modules, wavs)
    after, _, _, _ = model.classify_batch(wavs)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=0)
    assert model.importance_map(os.path.join(data, "wav", "zero", "spk0_nohash_0.wav")).shape == (257, 126)
