"""Fetch, verify and extract corpus archives with urllib only.

- A download goes to `<file>.part` and resumes from its size with a Range
  request; only a complete file gets the final name.
- On first success the archive's size and sha256 are recorded in
  `<download_dir>/<file>.sha256` (JSON) and checked on every later use.
- Archives fetched by hand are used from `archive_dir` as they are.
- With a known `sha256`, a file that does not match it is refused (and
  never recorded).
- Offline, the short connect timeout makes it fail in seconds with one
  `DownloadError` line naming the URL and where to put the file by hand.
"""
import hashlib
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

CONNECT_TIMEOUT = 10  # seconds; also the per-read stall limit
RETRIES = 5           # resumes after a dropped connection (not when offline)


class DownloadError(Exception):
    """One line for the user: what failed and how to get around it."""


def sha256_of(path, block=1 << 22):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path, record_dir, sha256=None):
    """Record size+sha256 of `path` in `record_dir` the first time (a
    hand-placed archive's folder may be read-only), compare afterwards;
    with `sha256`, the file must have that checksum."""
    path = Path(path)
    sidecar = Path(record_dir) / (path.name + ".sha256")
    found = {"size": path.stat().st_size, "sha256": sha256_of(path)}
    if sha256 is not None and found["sha256"] != sha256:
        raise DownloadError(f"{path} has sha256 {found['sha256']}, expected {sha256}: "
                            f"delete it to fetch it again")
    if sidecar.exists():
        want = json.loads(sidecar.read_text())
        if want != found:
            raise DownloadError(
                f"{path} does not match {sidecar} (recorded {want}, found {found}): "
                f"delete the archive to fetch it again")
    else:
        sidecar.write_text(json.dumps(found) + "\n")


def _fetch(url, part):
    """Append the rest of `url` to `part`; True when the file is complete."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(req, timeout=CONNECT_TIMEOUT)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # range past the end: already complete
            return True
        raise
    with resp:
        if have and resp.status != 206:  # server ignored Range: start over
            have = 0
        total = resp.headers.get("Content-Length")
        total = have + int(total) if total is not None else None
        with open(part, "ab" if have else "wb") as f:
            shutil.copyfileobj(resp, f, 1 << 20)
    return total is None or part.stat().st_size >= total


def fetch(url, filename, download_dir, archive_dir=None, log=print, sha256=None):
    """Path of a verified archive `filename`: from `archive_dir` if placed
    there by hand, else from `download_dir` (downloading and resuming);
    `sha256`: its expected checksum, when known."""
    for d in (archive_dir, download_dir):
        if d is not None and (Path(d) / filename).is_file():
            path = Path(d) / filename
            log(f"verifying {path}")
            Path(download_dir).mkdir(parents=True, exist_ok=True)
            verify(path, download_dir, sha256)
            return path
    dest = Path(download_dir) / filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(filename + ".part")
    hint = (f"fetch it by other means and place it at {dest}"
            f"{' or ' + str(Path(archive_dir) / filename) if archive_dir else ''}"
            f", or pass --archive_dir DIR with {filename} in DIR")
    log(f"downloading {url} -> {dest}")
    for attempt in range(RETRIES):
        before = part.stat().st_size if part.exists() else -1
        try:
            if _fetch(url, part):
                break
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            # no byte came in: offline or a wrong URL, retrying won't help
            if (part.stat().st_size if part.exists() else -1) <= max(before, 0):
                raise DownloadError(f"cannot download {url} ({reason}); {hint}") from None
            if attempt == RETRIES - 1:
                raise DownloadError(f"download of {url} keeps failing ({reason}); "
                                    f"rerun to resume, or {hint}") from None
            log(f"connection lost ({reason}), resuming")
    else:
        raise DownloadError(f"download of {url} is incomplete; rerun to resume, or {hint}")
    os.replace(part, dest)
    verify(dest, download_dir, sha256)
    return dest


def extract(archive, dest):
    """Unpack a .tar(.gz) or .zip into `dest` (created)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    name = Path(archive).name
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(dest)
    else:
        with tarfile.open(archive) as t:
            t.extractall(dest, filter="data")
