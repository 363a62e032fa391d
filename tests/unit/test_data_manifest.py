"""Stage 1 checks every file and names bad ones by path."""
import csv

import numpy as np
import pytest
import soundfile as sf

from helpers import prepare_kws_data
from iaug.data.audio import write_wav
from iaug.data.gsc import build_manifests
from iaug.data.manifest import DataError


@pytest.fixture
def data_dir(tmp_path):
    """A GSC-layout corpus with two good clips and one of each kind of bad file."""
    root = tmp_path / "speech_commands"
    tone = (0.1 * np.sin(np.arange(16000) * 0.1)).astype(np.float32)
    for rel in ("yes/aaaaaaaa_nohash_0.wav", "no/bbbbbbbb_nohash_0.wav"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_wav(root / rel, tone)
    bad = {
        "yes/corrupt_nohash_0.wav": "unreadable",
        "yes/zero_bytes_nohash_0.wav": "unreadable",
        "no/empty_nohash_0.wav": "empty",
        "no/narrow_nohash_0.wav": "sample rate 8000",
        "up/stereo_nohash_0.wav": "2 channels",
        "up/cut_nohash_0.wav": "truncated (header declares 16000 frames, file holds 8000)",
        "up/nan_nohash_0.wav": "NaN or infinite samples",
        "banana/cccccccc_nohash_0.wav": "unknown label",
    }
    for rel in bad:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / "yes/corrupt_nohash_0.wav").write_bytes(b"RIFF\x00\x01garbage" * 50)
    (root / "yes/zero_bytes_nohash_0.wav").write_bytes(b"")
    write_wav(root / "no/empty_nohash_0.wav", np.zeros(0, np.float32))
    write_wav(root / "no/narrow_nohash_0.wav", tone[:8000], sr=8000)
    sf.write(str(root / "up/stereo_nohash_0.wav"), np.stack([tone, tone], 1), 16000)
    write_wav(root / "banana/cccccccc_nohash_0.wav", tone)
    write_wav(root / "up/cut_nohash_0.wav", tone)  # then cut short, as by a failed copy
    (root / "up/cut_nohash_0.wav").write_bytes((root / "up/cut_nohash_0.wav").read_bytes()[:44 + 16000])
    write_wav(root / "up/nan_nohash_0.wav", np.where(np.arange(16000) == 5, np.nan, tone), fmt="float")
    (root / "validation_list.txt").write_text("no/bbbbbbbb_nohash_0.wav\n")
    (root / "testing_list.txt").write_text("")
    return tmp_path, {str((root / rel).resolve()): why for rel, why in bad.items()}


def test_fail_names_every_bad_file(data_dir):
    d, bad = data_dir
    with pytest.raises(DataError) as e:
        build_manifests(d, on_bad="fail")
    for path, why in bad.items():
        assert path in str(e.value)
    report = (d / "manifests" / "bad_files.txt").read_text().splitlines()
    assert len(report) == len(bad)
    for line in report:
        path, why = line.split(": ", 1)
        assert bad[path] in why


def test_skip_counts_and_leaves_out(data_dir):
    d, bad = data_dir
    logs = []
    counts = build_manifests(d, on_bad="skip", log=logs.append)
    assert counts["train"] == 1 and counts["dev"] == 1
    assert any(f"skipping {len(bad)} bad" in m for m in logs)
    listed = [r["wav"] for r in csv.DictReader(open(d / "manifests" / "train.csv"))]
    assert not set(listed) & set(bad)


def test_cli_fail_is_one_line(data_dir):
    d, bad = data_dir
    r = prepare_kws_data("manifests", "--data_dir", d, "--nj", "1")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "yes/corrupt_nohash_0.wav" in r.stderr
