"""SpeechBrain CSV manifests of both recipes, with every audio file checked
once on the way.

A file that is unreadable, empty, truncated (its WAV header declares more
frames than it holds), not 16 kHz, not mono, missing or with NaN or infinite
samples (or that a corpus rule rejects) is *bad*: listed by path in
`manifests/bad_files.txt`, then either fatal (`on_bad="fail"`) or left out with a count
(`on_bad="skip"`).
"""
import csv
import multiprocessing as mp
from pathlib import Path

import numpy as np
import soundfile as sf

from iaug.data.audio import SAMPLE_RATE, truncation


class DataError(Exception):
    """Bad data files; the message names them."""


def check_file(path):
    """(problem or None, duration in seconds) after reading the whole file."""
    if not Path(path).is_file():
        return "missing", 0.0
    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # any decoder complaint means unusable
        return f"unreadable ({str(e).splitlines()[0] if str(e) else type(e).__name__})", 0.0
    if x.shape[0] == 0:
        return "empty", 0.0
    missing = truncation(path, x.shape[0])  # libsndfile reads what is there without complaint
    if missing:
        return f"truncated ({missing})", 0.0
    if not np.isfinite(x).all():
        return "NaN or infinite samples", 0.0
    if sr != SAMPLE_RATE:
        return f"sample rate {sr} Hz, expected {SAMPLE_RATE}", 0.0
    if x.shape[1] != 1:
        return f"{x.shape[1]} channels, expected mono", 0.0
    return None, x.shape[0] / sr


def check_files(paths, nj=1):
    """{path: (problem, duration)}, in parallel (reading dominates)."""
    paths = sorted(set(str(p) for p in paths))
    with mp.get_context("fork").Pool(max(1, nj)) as pool:
        results = pool.map(check_file, paths, chunksize=max(1, min(500, len(paths) // (4 * nj) + 1)))
    return dict(zip(paths, results))


def report_bad(out_dir, bad, on_bad, log=print):
    """Write `out_dir/bad_files.txt` ({path: problem}, may be empty); with
    bad files, raise one DataError line (`fail`) or log their count (`skip`)."""
    if on_bad not in ("fail", "skip"):
        raise ValueError(f"on_bad must be fail or skip, not {on_bad!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "bad_files.txt"
    report.write_text("".join(f"{p}: {why}\n" for p, why in sorted(bad.items())))
    if bad and on_bad == "fail":
        shown = "; ".join(f"{p}: {why}" for p, why in sorted(bad.items())[:10])
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise DataError(f"{len(bad)} bad utterances: {shown}{more}; all listed in {report}; "
                        f"fix them or rerun with --on_bad skip")
    if bad:
        log(f"skipping {len(bad)} bad utterances, listed in {report}")


def write_manifest(path, header, rows):
    """CSV `path` (folders made), written under a temporary name and renamed
    so that an interrupted run leaves no half manifest. Returns #rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    with open(path.with_suffix(".tmp"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    path.with_suffix(".tmp").replace(path)
    return len(rows)


def write_manifests(out_dir, sets, checked, bad, decimals):
    """`out_dir/<name>.csv` per set {name: (extra columns, [(ID, wav, *extra)])}:
    `ID,duration,wav,<extra columns>` of the rows whose file is not bad
    (`checked`: :func:`check_files`). Returns {name: #rows}."""
    counts = {}
    for name, (columns, rows) in sets.items():
        kept = [(uid, f"{checked[wav][1]:.{decimals}f}", wav, *extra)
                for uid, wav, *extra in rows if wav not in bad]
        counts[name] = write_manifest(Path(out_dir) / f"{name}.csv", ["ID", "duration", "wav", *columns], kept)
    return counts


def noise_rows(data_dir, split):
    """(ID, wav) of `data_dir/noise/<split>/*.wav`, the training-noise clips."""
    return [(p.stem, str(p.resolve())) for p in sorted((Path(data_dir) / "noise" / split).glob("*.wav"))]
