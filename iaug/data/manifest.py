"""SpeechBrain CSV manifests, with every audio file checked once on the way.

Speech manifests: `ID,duration,wav,label,speaker`; noise manifests:
`ID,duration,wav,wav_format,wav_opts` (the two last columns let SpeechBrain's
own `AddNoise`, which reads legacy CSVs, use the same noise bank). A file that is unreadable, empty, not 16 kHz, not mono,
missing, or in a folder that is not one of the 35 words is *bad*: listed by
path in `manifests/bad_files.txt`, then either fatal (`on_bad="fail"`) or
left out with a count (`on_bad="skip"`).
"""
import csv
import multiprocessing as mp
from pathlib import Path

import soundfile as sf

from iaug.data.gsc import GSC_LABELS, list_splits, speaker_of

SR = 16000


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
    if sr != SR:
        return f"sample rate {sr} Hz, expected {SR}", 0.0
    if x.shape[1] != 1:
        return f"{x.shape[1]} channels, expected mono", 0.0
    return None, x.shape[0] / sr


def check_files(paths, nj=1):
    """{path: (problem, duration)}, in parallel (reading dominates)."""
    paths = sorted(set(str(p) for p in paths))
    with mp.get_context("fork").Pool(max(1, nj)) as pool:
        results = pool.map(check_file, paths, chunksize=max(1, min(500, len(paths) // (4 * nj) + 1)))
    return dict(zip(paths, results))


def _speech_rows(root, rels):
    """(path, id, label, speaker) for relative paths like `word/file.wav`."""
    for rel in rels:
        parts = Path(rel).parts
        yield (str(Path(root, rel).resolve()), "-".join(parts)[:-4],
               Path(rel).parent.name, speaker_of(rel))


def collect(data_dir):
    """{manifest name: rows}: train/dev/test, noisy/<set>, noise_train/dev."""
    data_dir = Path(data_dir)
    root = data_dir / "speech_commands"
    sets = {name: list(_speech_rows(root, rels)) for name, rels in list_splits(root).items()}
    noisy_root = data_dir / "noisy_test"
    if noisy_root.is_dir():
        for d in sorted(p for p in noisy_root.iterdir() if p.is_dir()):
            rels = sorted(p.relative_to(d).as_posix() for p in d.rglob("*.wav"))
            sets[f"noisy/{d.name}"] = list(_speech_rows(d, rels))
    for split in ("train", "dev"):
        files = sorted((data_dir / "noise" / split).glob("*.wav"))
        sets[f"noise_{split}"] = [(str(p.resolve()), p.stem, None, None) for p in files]
    return sets


def build_manifests(data_dir, on_bad="fail", nj=1, log=print):
    """Write `data_dir/manifests/*.csv`; returns {manifest name: #rows}."""
    if on_bad not in ("fail", "skip"):
        raise ValueError(f"on_bad must be fail or skip, not {on_bad!r}")
    out_dir = Path(data_dir) / "manifests"
    sets = collect(data_dir)
    checked = check_files([row[0] for rows in sets.values() for row in rows], nj)
    bad = {}
    for name, rows in sets.items():
        for path, _, label, _ in rows:
            problem = checked[path][0]
            if problem is None and label is not None and label not in GSC_LABELS:
                problem = f"unknown label {label!r}"
            if problem:
                bad[path] = problem
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "bad_files.txt"
    report.write_text("".join(f"{p}: {why}\n" for p, why in sorted(bad.items())))
    if bad and on_bad == "fail":
        shown = "; ".join(f"{p}: {why}" for p, why in sorted(bad.items())[:10])
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise DataError(f"{len(bad)} bad audio files: {shown}{more}; all listed in {report}; "
                        f"fix them or rerun with --on_bad skip")
    if bad:
        log(f"skipping {len(bad)} bad audio files, listed in {report}")
    counts = {}
    for name, rows in sets.items():
        path = out_dir / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        speech = not name.startswith("noise_")
        with open(path.with_suffix(".tmp"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["ID", "duration", "wav", "label", "speaker"] if speech
                       else ["ID", "duration", "wav", "wav_format", "wav_opts"])
            n = 0
            for wav, uid, label, spk in rows:
                if wav in bad:
                    continue
                dur = f"{checked[wav][1]:.4f}"
                w.writerow([uid, dur, wav, label, spk] if speech else [uid, dur, wav, "wav", ""])
                n += 1
        path.with_suffix(".tmp").replace(path)
        counts[name] = n
    return counts
