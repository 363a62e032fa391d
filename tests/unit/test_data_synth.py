"""The offline corpus end to end (tiny preset): layout, determinism, SNRs of
the noisy test sets, idempotent reruns, manifests."""
import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers import build_tiny_synth
from iaug.data.gsc import GSC_LABELS, which_set
from iaug.data.gsc_synth import make_speaker, speaker_clips
from iaug.data.synth_noise import BABBLE_WORDS, TEST_TYPES, TRAIN_TYPES

SNRS = (-12.5, -10, 0, 10, 20, 30, 40)


@pytest.fixture
def tiny(tiny_synth):
    """The session's tiny corpus: read here, and rebuilt in place only by a
    rerun that must change nothing."""
    return tiny_synth


def file_digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix == ".wav"
            or p.name.endswith("_list.txt")}


def test_gsc_layout(tiny):
    root = tiny / "speech_commands"
    words = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "_background_noise_")
    assert words == list(GSC_LABELS)
    assert list((root / "_background_noise_").glob("*.wav"))
    clips = sorted(root.glob("*/*_nohash_*.wav"))
    assert len(clips) == 8 * 35
    for p in clips:
        assert re.fullmatch(r"[0-9a-f]{8}_nohash_\d+\.wav", p.name)
        info = sf.info(str(p))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 16000, "PCM_16")
    dev = set((root / "validation_list.txt").read_text().split())
    test = set((root / "testing_list.txt").read_text().split())
    for p in clips:
        rel = p.relative_to(root).as_posix()
        split = which_set(p.name)
        assert (rel in dev) == (split == "validation") and (rel in test) == (split == "testing")
    for split in (dev, test, {c.relative_to(root).as_posix() for c in clips} - dev - test):
        assert {rel.split("/")[0] for rel in split} == set(GSC_LABELS)  # every word everywhere


def test_clips_have_speech_and_a_noise_floor(tiny):
    for p in sorted((tiny / "speech_commands").glob("*/*_nohash_*.wav"))[::7]:
        x, _ = sf.read(str(p), dtype="float32")
        frames = x[: len(x) // 160 * 160].reshape(-1, 160)
        level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1))
        assert level.max() > -35, p          # a word is there
        assert -85 < level.min() < -55, p    # no digital silence, floor ~ -70 dB


def test_same_seed_same_bytes(tiny, tmp_path):
    build_tiny_synth(tmp_path)
    for sub in ("speech_commands", "noise", "noisy_test", "synth_noise"):
        a, b = file_digests(tiny / sub), file_digests(tmp_path / sub)
        assert a and a == b, sub


def test_other_seed_other_audio():
    a = speaker_clips(make_speaker("0123abcd", 1), 1, 1)["yes", 0]
    b = speaker_clips(make_speaker("0123abcd", 2), 1, 2)["yes", 0]
    assert not np.array_equal(a, b)


def test_noise_types_disjoint():
    assert not set(TRAIN_TYPES) & set(TEST_TYPES)
    assert not set(BABBLE_WORDS) & set(GSC_LABELS)


def test_noisy_sets_snr_measured_back(tiny):
    clean_root = tiny / "speech_commands"
    test = (clean_root / "testing_list.txt").read_text().split()
    sets = sorted((tiny / "noisy_test").iterdir())
    assert [p.name for p in sets] == sorted(f"qut_snr{s:g}" for s in SNRS)
    for d in sets:
        snr = float(d.name[len("qut_snr"):])
        rels = sorted(p.relative_to(d).as_posix() for p in d.rglob("*.wav"))
        assert rels == sorted(test)
        for rel in rels:
            clean, _ = sf.read(str(clean_root / rel), dtype="float64")
            noisy, sr = sf.read(str(d / rel), dtype="float64")
            assert sr == 16000 and noisy.shape == clean.shape
            measured = 10 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))
            assert abs(measured - snr) < 0.1, (d.name, rel, measured)


def test_rerun_does_nothing(tiny):
    before = {p: p.stat().st_mtime_ns for p in tiny.rglob("*")}
    r = build_tiny_synth(tiny)
    assert "already done" in r.stdout
    assert {p: p.stat().st_mtime_ns for p in tiny.rglob("*")} == before


def test_manifests(tiny):
    m = tiny / "manifests"
    names = sorted(p.relative_to(m).as_posix() for p in m.rglob("*.csv"))
    assert names == sorted(["train.csv", "dev.csv", "test.csv", "noise_train.csv", "noise_dev.csv"]
                           + [f"noisy/qut_snr{s:g}.csv" for s in SNRS])
    rows = {n: list(csv.DictReader(open(m / n))) for n in names}
    assert [len(rows[n]) for n in ("train.csv", "dev.csv", "test.csv")] == [6 * 35, 35, 35]
    for n, rs in rows.items():
        cols = ["ID", "duration", "wav"] + (["wav_format", "wav_opts"] if n.startswith("noise_")
                                            else ["label", "speaker"])
        assert list(rs[0]) == cols
        assert len({r["ID"] for r in rs}) == len(rs)
        for r in rs:
            assert Path(r["wav"]).is_file() and float(r["duration"]) == 1.0
            if "label" in r:
                assert r["label"] in GSC_LABELS and r["speaker"] in r["wav"]
    assert rows["noise_train.csv"] and rows["noise_dev.csv"]
