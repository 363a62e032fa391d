"""Google Speech Commands v0.02: labels, the published split rule, split lists."""
import hashlib
import os
import re
from pathlib import Path

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
