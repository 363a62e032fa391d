"""ASR data: the grammar, synthetic speakers, and the real-corpus path
(LibriSpeech, MUSAN and QUT archives placed by hand, no network)."""

import csv
import importlib.util
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from helpers import ROOT
from iaug.data.librispeech import (grammar_sentence, grammar_vocabulary, make_speaker,
                                   read_transcripts, speaker_ids)

PREPARE = Path(ROOT) / "egs" / "librispeech" / "asr" / "local" / "prepare_data.py"


def load_prepare():
    spec = importlib.util.spec_from_file_location("asr_prepare_data", PREPARE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grammar_stays_in_its_vocabulary_and_is_seeded():
    vocab = set(grammar_vocabulary())
    rng = np.random.default_rng(0)
    sentences = [grammar_sentence(rng) for _ in range(500)]
    assert all(set(s.split()) <= vocab for s in sentences)
    assert len(set(sentences)) > 400 and all(s == s.upper() for s in sentences)
    again = np.random.default_rng(0)
    assert [grammar_sentence(again) for _ in range(500)] == sentences


def test_speakers_are_disjoint_and_reproducible():
    ids = speaker_ids({"train": 50, "dev": 5, "test": 8}, seed=3)
    assert sum(map(len, ids.values())) == len(set().union(*ids.values())) == 63
    assert ids == speaker_ids({"train": 50, "dev": 5, "test": 8}, seed=3)
    assert make_speaker(ids["dev"][0], 3) == make_speaker(ids["dev"][0], 3)
    floors = [make_speaker(s, 3).floor_db for s in ids["train"]]
    assert -76 <= min(floors) and max(floors) <= -64


def _flac_bytes(seconds, f0, sr=16000):
    t = np.arange(int(sr * seconds)) / sr
    buf = io.BytesIO()
    sf.write(buf, (0.2 * np.sin(2 * np.pi * f0 * t)).astype("float32"), sr, format="FLAC")
    return buf.getvalue()


def _wav_bytes(x, sr):
    buf = io.BytesIO()
    sf.write(buf, x.astype("float32"), sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_archives(folder):
    """dev-clean / test-clean with 2 speakers each, MUSAN noise, QUT home."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for subset, speakers in (("dev-clean", (84, 174)), ("test-clean", (61, 121))):
        with tarfile.open(folder / f"{subset}.tar.gz", "w:gz") as tar:
            for spk in speakers:
                chapter = spk * 10
                lines = []
                for u in range(3):
                    uid = f"{spk}-{chapter}-{u:04d}"
                    _add(tar, f"LibriSpeech/{subset}/{spk}/{chapter}/{uid}.flac",
                         _flac_bytes(1.0 + 0.3 * u, 200 + 50 * u))
                    lines.append(f"{uid} HE SAID {'YES' if u % 2 else 'NO'} TO IT'S OWNER\n")
                _add(tar, f"LibriSpeech/{subset}/{spk}/{chapter}/{spk}-{chapter}.trans.txt",
                     "".join(lines).encode())
    with tarfile.open(folder / "musan.tar.gz", "w:gz") as tar:
        for part in ("free-sound", "sound-bible"):
            for k in range(2):
                _add(tar, f"musan/noise/{part}/noise-{part}-{k:04d}.wav",
                     _wav_bytes(0.1 * rng.standard_normal(16000 * 17), 16000))
    with zipfile.ZipFile(folder / "qutnoisehome.zip", "w") as z:
        z.writestr("QUT-NOISE/HOME-LIVINGB-1.wav", _wav_bytes(0.1 * rng.standard_normal((48000 * 12, 2)), 48000))


def test_librispeech_path_with_placed_archives(tmp_path):
    prepare = load_prepare()
    archives, data = tmp_path / "archives", tmp_path / "data"
    make_archives(archives)
    common = ["--corpus", "librispeech", "--preset", "tiny", "--data_dir", str(data), "--nj", "1"]
    assert prepare.main(["download", *common, "--archive_dir", str(archives)]) == 0
    assert prepare.main(["manifests", *common, "--vocab_size", "16", "--token_type", "unigram"]) == 0

    items = read_transcripts(data / "LibriSpeech" / "test-clean")
    assert len(items) == 6 and items["61-610-0001"][2] == "HE SAID YES TO IT'S OWNER"
    manifests = data / "manifests"
    with open(manifests / "train.csv") as f:
        train = list(csv.DictReader(f))
    assert list(train[0]) == ["ID", "duration", "wav", "spk_id", "wrd"] and len(train) == 6
    assert {r["spk_id"] for r in train} == {"84", "174"}
    # noisy copies of test-clean at every SNR, made by the keyword recipe's mixing
    noisy = sorted(p.name for p in (manifests / "noisy").glob("*.csv"))
    assert len(noisy) == 7 and "qut_snr-12.5.csv" in noisy
    with open(manifests / "noisy" / "qut_snr0.csv") as f:
        row = next(csv.DictReader(f))
    clean, _ = sf.read(items[row["ID"]][0])
    mixed, sr = sf.read(row["wav"])
    assert sr == 16000 and len(mixed) == len(clean)
    snr = 10 * np.log10(np.mean(clean ** 2) / np.mean((mixed - clean) ** 2))
    assert snr == pytest.approx(0.0, abs=0.05)
    # training noise in 8 s clips, train and dev from different source files
    for split in ("train", "dev"):
        with open(manifests / f"noise_{split}.csv") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(float(r["duration"]) == 8.0 for r in rows)
    assert (data / "tokenizer" / "16_unigram.model").is_file()

    # a vocabulary too large for the text is one clear error
    assert prepare.main(["manifests", *common, "--vocab_size", "500"]) == 1
    # a rerun skips every step
    assert prepare.main(["download", *common, "--archive_dir", str(archives)]) == 0
    assert prepare.main(["manifests", *common, "--vocab_size", "16", "--token_type", "unigram"]) == 0
    assert (data / ".done_tokenizer").is_file()

    # a corrected transcript is read again, and the tokenizer retrained on the new text
    model = data / "tokenizer" / "16_unigram.model"
    before = model.stat().st_mtime_ns
    trans = data / "LibriSpeech" / "dev-clean" / "84" / "840" / "84-840.trans.txt"
    trans.write_text(trans.read_text().replace("84-840-0000 HE SAID NO", "84-840-0000 SHE SAID NO"))
    assert prepare.main(["manifests", *common, "--vocab_size", "16", "--token_type", "unigram"]) == 0
    with open(manifests / "train.csv") as f:
        assert next(r for r in csv.DictReader(f) if r["ID"] == "84-840-0000")["wrd"] == "SHE SAID NO TO IT'S OWNER"
    assert model.stat().st_mtime_ns != before

    # an empty transcript or one the tokenizer cannot spell is a bad utterance, named with the reason
    text = trans.read_text().replace("84-840-0001 HE SAID YES TO IT'S OWNER", "84-840-0001 héllo")
    trans.write_text(text.replace("84-840-0002 HE SAID NO TO IT'S OWNER", "84-840-0002 "))
    assert prepare.main(["manifests", *common, "--vocab_size", "16", "--token_type", "unigram"]) == 1
    listed = (manifests / "bad_files.txt").read_text()
    assert "84-840-0001: transcript has characters outside A-Z, ' and space: 'hloé'" in listed
    assert "84-840-0002: empty transcript" in listed
    assert prepare.main(["manifests", *common, "--vocab_size", "16", "--token_type", "unigram",
                         "--on_bad", "skip"]) == 0
    with open(manifests / "train.csv") as f:
        assert len(list(csv.DictReader(f))) == 4


def test_offline_without_archives_fails_in_one_line(tmp_path, capsys):
    prepare = load_prepare()
    cfg = yaml.safe_load(prepare.DEFAULT_CONFIG.read_text())
    cfg["librispeech"]["url"] = "http://127.0.0.1:9/"  # nothing listens: as offline
    config = tmp_path / "data.yaml"
    config.write_text(yaml.safe_dump(cfg))
    rc = prepare.main(["download", "--corpus", "librispeech", "--preset", "tiny",
                       "--data_dir", str(tmp_path / "d"), "--config", str(config)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and err[0].startswith("ERROR:") and "dev-clean.tar.gz" in err[0]
