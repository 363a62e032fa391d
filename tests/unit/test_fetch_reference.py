"""iaug.cli.fetch_reference: the authors' checkpoint by URL and checksum,
without the internet (local URLs only; no test downloads)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from helpers import reference_file
from iaug.cli import fetch_reference as fr
from iaug.data.download import sha256_of

FILENAME = "importantaug_clf_frozen.pt"


def test_offline_fails_fast_with_one_line(tmp_path):
    url = "http://127.0.0.1:9/best_clf_frozen.pt"  # discard port: nothing listens
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "iaug.cli.fetch_reference", "--out", str(tmp_path),
                           "--url", url], capture_output=True, text=True, timeout=60)
    assert time.time() - t0 < 20
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert url in lines[0] and FILENAME in lines[0] and "--archive_dir" in lines[0]
    assert not (tmp_path / FILENAME).exists()


def test_checksum_refuses_another_file(tmp_path, capsys):
    src = tmp_path / "src" / "best_clf_frozen.pt"
    src.parent.mkdir()
    src.write_bytes(b"not the authors' checkpoint")
    out = tmp_path / "out"
    assert fr.main(["--out", str(out), "--url", src.as_uri()]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fr.SHA256 in err and "delete it" in err
    assert not (out / (FILENAME + ".sha256")).exists()  # a wrong file is never recorded


def test_downloads_saves_and_verifies(tmp_path, monkeypatch, capsys):
    src = tmp_path / "src" / "best_clf_frozen.pt"
    src.parent.mkdir()
    src.write_bytes(os.urandom(3000))
    monkeypatch.setattr(fr, "SHA256", sha256_of(src))
    out = tmp_path / "out"
    assert fr.main(["--out", str(out), "--url", src.as_uri()]) == 0
    assert (out / FILENAME).read_bytes() == src.read_bytes()
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out / FILENAME)
    src.unlink()  # a second run verifies what is there, downloads nothing
    assert fr.main(["--out", str(out), "--url", src.as_uri()]) == 0
    assert "verifying" in capsys.readouterr().out


def test_checksum_is_the_authors_checkpoint(tmp_path):
    ckpt = reference_file(FILENAME)
    assert fr.fetch_reference(str(tmp_path), archive_dir=os.path.dirname(ckpt),
                              log=lambda m: None) == Path(ckpt)
