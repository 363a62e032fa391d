"""egs/gsc_qut/digits: the tiny preset end to end (the session's `digits_tiny`:
baseline against ImportantAug, results, export round trip, importance maps),
on the toy corpus."""

import csv
import os

import pytest
import torch
from hyperpyyaml import load_hyperpyyaml

from iaug.checkpoints import load_weights
from iaug.data.audio import read_audio as read_wav
from iaug.inference import ImportantAugClassifier, wav_log_probs


@pytest.mark.slow
def test_importantaug_starts_from_the_baseline_on_digits_only(digits_tiny):
    exp = digits_tiny.exp
    # the paper's protocol (default): ImportantAug starts from the trained baseline
    assert "initialised recognizer from " + os.path.join(exp, "baseline") in digits_tiny.log
    # data: digits only
    with open(os.path.join(exp, "manifests", "train.csv"), encoding="utf-8") as f:
        assert {row["label"] for row in csv.DictReader(f)} == {"zero", "one", "two"}


@pytest.mark.slow
def test_both_systems_on_the_clean_and_the_noisy_test_sets(digits_tiny):
    exp = digits_tiny.exp
    with open(os.path.join(exp, "results.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["system"], r["test_set"], r["snr_db"]) for r in rows} == {
        (s, t, snr) for s in ("baseline", "importantaug")
        for t, snr in (("test", ""), ("qut", "0"), ("qut", "-12.5"))}
    assert all(r["num_utts"] == "3" for r in rows)
    assert "| importantaug |" in open(os.path.join(exp, "results.md"), encoding="utf-8").read()
    for png in ("error_vs_snr.png", "importance_maps.png"):
        assert os.path.getsize(os.path.join(exp, png)) > 0


@pytest.mark.slow
def test_the_exported_baseline_predicts_what_the_trained_modules_predict(digits_tiny, tmp_path):
    exp = digits_tiny.exp
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
    wav = os.path.join(digits_tiny.data, "wav", "zero", "spk0_nohash_0.wav")
    assert model.importance_map(wav).shape == (257, 126)
