"""The step machinery of both recipes' `local/prepare_data.py`: a log line
format, steps that a rerun skips (`.done_<step>` markers holding their
settings), one corpus per data folder, and archive fetching."""
import csv
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from iaug.data import download as dl
from iaug.data.manifest import DataError


def run_command(cmd, fn):
    """Run the work of command `cmd`: exit status 1 with one `ERROR:` line on
    a download or data problem (no traceback), else 0 after a closing log."""
    t0 = time.time()
    try:
        fn()
    except (dl.DownloadError, DataError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    log(f"{cmd}: finished in {time.time() - t0:.1f} s")
    return 0


def log(msg):
    print(f"[prepare_data {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def step(data_dir, name, params, outputs, fn):
    """Run `fn` unless `.done_<name>` records the same params and its outputs
    exist; then record them. Returns True when it ran."""
    marker = Path(data_dir) / f".done_{name}"
    if (marker.exists() and json.loads(marker.read_text()) == params
            and all(Path(o).exists() for o in outputs)):
        log(f"{name}: already done, skipped")
        return False
    t0 = time.time()
    log(f"{name}: start")
    fn()
    marker.write_text(json.dumps(params, sort_keys=True) + "\n")
    log(f"{name}: done in {time.time() - t0:.1f} s")
    return True


def audio_fingerprint(root, skip=("downloads",), suffixes=(".wav", ".flac")):
    """Hash of where `root` is and of every audio file's path, size and
    modification time under it (but not in `skip` folders): a step whose
    settings include it reruns when files were added, removed or changed,
    or when the folder was moved or copied (manifests hold absolute paths:
    kept, they would read the old folder's files)."""
    root = Path(root).resolve()
    digest = hashlib.sha256(f"{root}\n".encode())
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files):
            if name.endswith(suffixes):
                st = os.stat(os.path.join(folder, name))
                rel = os.path.relpath(os.path.join(folder, name), root)
                digest.update(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def content_sha256(manifests, root):
    """Hash of the bytes of every audio file the manifests list, each named by
    its path relative to ``root``: the same for two builds of a corpus exactly
    when their audio is the same, wherever the folders are (unlike
    ``audio_fingerprint``, which holds the location and times)."""
    root = Path(root).resolve()
    wavs = {}
    for manifest in manifests:
        with open(manifest, newline="", encoding="utf-8") as f:
            wavs.update((os.path.relpath(Path(row["wav"]).resolve(), root), row["wav"]) for row in csv.DictReader(f))
    digest = hashlib.sha256()
    for rel in sorted(wavs):
        digest.update(f"{rel}\t{dl.sha256_of(wavs[rel])}\n".encode())
    return digest.hexdigest()


def done_markers(data_dir, prefixes=(".done_",), exclude=()):
    """{marker name: settings text} of finished steps, to make a later step's
    settings depend on them (so it reruns when they were redone otherwise)."""
    return {p.name: p.read_text() for p in sorted(Path(data_dir).glob(".done_*"))
            if p.name.startswith(tuple(prefixes)) and p.name not in exclude}


def claim(data_dir, corpus):
    """One data_dir holds one corpus: never overwrite a real one with synth."""
    tag = Path(data_dir) / ".corpus"
    if tag.exists() and tag.read_text().strip() != corpus:
        raise DataError(f"{data_dir} holds the {tag.read_text().strip()} corpus; "
                        f"use another --data_dir for --corpus {corpus}")
    if not tag.exists():
        tag.parent.mkdir(parents=True, exist_ok=True)
        tag.write_text(corpus + "\n")


def extract_archives(data_dir, archives, archive_dir):
    """One step per archive {key: {url, file, dest}}: fetch (or take it from
    `archive_dir`), verify, unpack into `data_dir/<dest>`."""
    for key, a in archives.items():
        dest = Path(data_dir) / a["dest"]

        def get(a=a, dest=dest):
            path = dl.fetch(a["url"], a["file"], Path(data_dir) / "downloads", archive_dir, log)
            if dest.exists():
                shutil.rmtree(dest)  # a half-finished extraction
            log(f"extracting {path.name}")
            dl.extract(path, dest)
        step(data_dir, f"extract_{key}", {"file": a["file"]}, [dest], get)


def find_one(root, filename):
    """The first `filename` anywhere under `root` (an unpacked archive)."""
    hits = sorted(Path(root).rglob(filename))
    if not hits:
        raise DataError(f"{filename} not found under {root}")
    return hits[0]
