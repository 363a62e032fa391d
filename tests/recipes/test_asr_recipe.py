"""The speech-recognition recipe end to end: run.sh on the tiny synth corpus
(LibriSpeech layout), every stage, then a rerun that skips them all."""

import csv
import os
from pathlib import Path

import pytest

from conftest import run_script
import soundfile as sf

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RUN = os.path.join(ROOT, "egs", "librispeech", "asr", "run.sh")
SYSTEMS = {"baseline", "noise", "importantaug", "null_importantaug"}
SNRS = {"-12.5", "-10", "0", "10", "20", "30", "40"}


def run(*args, timeout=600):
    return run_script(RUN, *args, timeout=timeout)


@pytest.mark.slow
def test_tiny_asr_recipe_all_stages(tmp_path):
    data, exp = str(tmp_path / "data"), str(tmp_path / "exp")
    args = ("--corpus", "synth", "--preset", "tiny", "--data_dir", data, "--exp_dir", exp,
            "--nthreads", "1")
    log = run(*args)

    # the corpus: LibriSpeech layout, disjoint speakers, a noise floor
    speakers = {}
    for split in ("train", "dev", "test"):
        subset = Path(data, "LibriSpeech", f"{split}-synth")
        speakers[split] = {p.name for p in subset.iterdir()}
        trans = sorted(subset.glob("*/*/*.trans.txt"))
        assert trans and all(len(list(t.parent.glob("*.flac"))) == len(t.read_text().splitlines())
                             for t in trans)
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    flac = sorted(Path(data, "LibriSpeech", "test-synth").rglob("*.flac"))[0]
    x, sr = sf.read(flac)
    assert sr == 16000 and abs(x[:800]).max() > 0  # never digital silence

    with open(os.path.join(exp, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["system", "test_set", "snr_db", "error_rate", "num_utts"]
    cells = {(r["system"], r["test_set"], r["snr_db"]) for r in rows}
    assert cells == {(s, "test", "") for s in SYSTEMS} | {(s, "qut", n) for s in SYSTEMS for n in SNRS}
    for r in rows:
        assert float(r["error_rate"]) >= 0.0 and int(r["num_utts"]) == 8
    md = open(os.path.join(exp, "results.md")).read()
    assert "WER (%)" in md and "Relative error reduction against baseline" in md
    assert "| importantaug |" in log
    for png in ("error_vs_snr.png", "importance_maps.png"):
        with open(os.path.join(exp, png), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.islink(os.path.join(exp, "noise"))
    with open(os.path.join(exp, "baseline", "eval", "qut_snr0.csv")) as f:
        decisions = list(csv.DictReader(f))  # per utterance: words, edits
    assert len(decisions) == 8 and all(int(d["ref_tokens"]) > 0 for d in decisions)
    assert list(Path(data, "tokenizer").glob("*_unigram.model"))

    # A rerun skips every finished stage.
    again = run(*args, "--stop_stage", "6")
    assert again.count("done, skipping") == 5  # baseline, 1 SNR, generator, ia, null
    assert "already done, skipped" in again and "training " not in again
