"""Google Speech Commands v0.02 (real or synthesized): labels, the published
split rule, split lists and the keyword recipe's manifests of this layout.

Speech manifests: `ID,duration,wav,label,speaker`; noise manifests:
`ID,duration,wav,wav_format,wav_opts` (the two last columns let SpeechBrain's
own `AddNoise`, which reads legacy CSVs, use the same noise bank). Besides the
generic checks (:mod:`iaug.data.manifest`), a file in a folder that is not one
of the 35 words is bad.
"""
import hashlib
import os
import re
from pathlib import Path

from iaug.data.manifest import check_files, noise_rows, report_bad, write_manifests

# the 35 words, sorted: the reference label order
GSC_LABELS = (
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow",
    "forward", "four", "go", "happy", "house", "learn", "left", "marvin", "nine",
    "no", "off", "on", "one", "right", "seven", "sheila", "six", "stop", "three",
    "tree", "two", "up", "visual", "wow", "yes", "zero",
)
BACKGROUND = "_background_noise_"
MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1  # the constant of the published rule


def speaker_of(filename):
    """The part of the file name that the split hashes: up to `_nohash_`."""
    return re.sub(r"_nohash_.*$", "", os.path.basename(filename))


def which_set(filename, validation_percentage=10, testing_percentage=10):
    """GSC's split rule exactly as published with the corpus (TensorFlow's
    speech_commands/input_data.py): returns 'validation', 'testing' or
    'training'. All clips of one speaker land in the same split."""
    hash_name_hashed = hashlib.sha1(speaker_of(filename).encode("utf-8")).hexdigest()
    percentage_hash = ((int(hash_name_hashed, 16) % (MAX_NUM_WAVS_PER_CLASS + 1))
                       * (100.0 / MAX_NUM_WAVS_PER_CLASS))
    if percentage_hash < validation_percentage:
        return "validation"
    if percentage_hash < testing_percentage + validation_percentage:
        return "testing"
    return "training"


def read_list(path):
    """Relative paths (`word/file.wav`) listed in a split file."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def list_splits(root):
    """{'train','dev','test'}: sorted relative wav paths of a GSC-layout root.

    dev/test come from validation_list.txt/testing_list.txt; every other wav in
    a word folder (not `_background_noise_`) is training, as in the corpus.
    """
    root = Path(root)
    dev = read_list(root / "validation_list.txt")
    test = read_list(root / "testing_list.txt")
    held_out = set(dev) | set(test)
    train = sorted(
        p.relative_to(root).as_posix() for p in root.glob("*/*.wav")
        if p.parent.name != BACKGROUND and p.relative_to(root).as_posix() not in held_out)
    return {"train": train, "dev": sorted(dev), "test": sorted(test)}


def _speech_rows(root, rels):
    """(id, path, label, speaker) for relative paths like `word/file.wav`."""
    for rel in rels:
        parts = Path(rel).parts
        yield ("-".join(parts)[:-4], str(Path(root, rel).resolve()),
               Path(rel).parent.name, speaker_of(rel))


def collect(data_dir):
    """{manifest name: (extra columns, rows)}: train/dev/test, noisy/<set>,
    noise_train/dev (see :func:`iaug.data.manifest.write_manifests`)."""
    data_dir = Path(data_dir)
    root = data_dir / "speech_commands"
    speech = {name: list(_speech_rows(root, rels)) for name, rels in list_splits(root).items()}
    noisy_root = data_dir / "noisy_test"
    if noisy_root.is_dir():
        for d in sorted(p for p in noisy_root.iterdir() if p.is_dir()):
            rels = sorted(p.relative_to(d).as_posix() for p in d.rglob("*.wav"))
            speech[f"noisy/{d.name}"] = list(_speech_rows(d, rels))
    sets = {name: (["label", "speaker"], rows) for name, rows in speech.items()}
    for split in ("train", "dev"):
        sets[f"noise_{split}"] = (["wav_format", "wav_opts"],
                                  [(uid, wav, "wav", "") for uid, wav in noise_rows(data_dir, split)])
    return sets


def build_manifests(data_dir, on_bad="fail", nj=1, log=print):
    """Write `data_dir/manifests/*.csv`; returns {manifest name: #rows}."""
    sets = collect(data_dir)
    checked = check_files([row[1] for _, rows in sets.values() for row in rows], nj)
    bad = {wav: why for wav, (why, _) in checked.items() if why}
    for name, (_, rows) in sets.items():
        if not name.startswith("noise_"):
            bad.update({wav: f"unknown label {label!r}" for _, wav, label, _ in rows
                        if wav not in bad and label not in GSC_LABELS})
    report_bad(Path(data_dir) / "manifests", bad, on_bad, log)
    return write_manifests(Path(data_dir) / "manifests", sets, checked, bad, 4)
