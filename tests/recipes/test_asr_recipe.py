"""The speech-recognition recipe end to end: run.sh on the tiny synth corpus
(LibriSpeech layout), every stage (the session's `asr_tiny`), then a rerun
that skips them all."""

import csv
import os
from pathlib import Path

import pytest
import soundfile as sf

from helpers import RECIPES, run_script

SYSTEMS = {"baseline", "noise", "importantaug", "null_importantaug"}
SNRS = {"-12.5", "-10", "0", "10", "20", "30", "40"}


@pytest.mark.slow
def test_the_corpus_is_librispeech_layout_with_disjoint_speakers(asr_tiny):
    # the corpus: LibriSpeech layout, disjoint speakers, a noise floor
    speakers = {}
    for split in ("train", "dev", "test"):
        subset = Path(asr_tiny.data, "LibriSpeech", f"{split}-synth")
        speakers[split] = {p.name for p in subset.iterdir()}
        trans = sorted(subset.glob("*/*/*.trans.txt"))
        assert trans and all(len(list(t.parent.glob("*.flac"))) == len(t.read_text().splitlines())
                             for t in trans)
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    flac = sorted(Path(asr_tiny.data, "LibriSpeech", "test-synth").rglob("*.flac"))[0]
    x, sr = sf.read(flac)
    assert sr == 16000 and abs(x[:800]).max() > 0  # never digital silence
    assert list(Path(asr_tiny.data, "tokenizer").glob("*_unigram.model"))


@pytest.mark.slow
def test_tiny_asr_recipe_results(asr_tiny):
    exp = asr_tiny.exp
    with open(os.path.join(exp, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["system", "test_set", "snr_db", "error_rate", "num_utts"]
    cells = {(r["system"], r["test_set"], r["snr_db"]) for r in rows}
    assert cells == {(s, "test", "") for s in SYSTEMS} | {(s, "qut", n) for s in SYSTEMS for n in SNRS}
    for r in rows:
        assert float(r["error_rate"]) >= 0.0 and int(r["num_utts"]) == 8
    md = open(os.path.join(exp, "results.md")).read()
    assert "WER (%)" in md and "Relative error reduction against baseline" in md
    assert "| importantaug |" in asr_tiny.log
    # with --jobs 2 the generator trains beside stages 3 and 6, stage 5 after it
    order = [asr_tiny.log.index(f"Stage {n}:") for n in (4, 3, 6, 5)]
    assert order == sorted(order) and "generator: training in the background" in asr_tiny.log
    for png in ("error_vs_snr.png", "importance_maps.png"):
        with open(os.path.join(exp, png), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.islink(os.path.join(exp, "noise"))
    with open(os.path.join(exp, "baseline", "eval", "qut_snr0.csv")) as f:
        decisions = list(csv.DictReader(f))  # per utterance: words, edits
    assert len(decisions) == 8 and all(int(d["ref_tokens"]) > 0 for d in decisions)


@pytest.mark.slow
def test_a_rerun_skips_every_finished_stage(asr_tiny):
    again = run_script(RECIPES["asr"], *asr_tiny.args, "--stop_stage", "6")
    assert again.count("done, skipping") == 5  # baseline, 1 SNR, generator, ia, null
    assert "already done, skipped" in again and "training " not in again
