"""GSC's split rule, checked against the rule as published, on our own names.

The sha1 digests below were computed outside Python (`printf NAME | sha1sum`),
and the percentage is recomputed here with exact fractions, so the test does
not reuse the code it checks.
"""
from fractions import Fraction

from iaug.data.audio import write_wav
from iaug.data.gsc import GSC_LABELS, list_splits, which_set

import numpy as np

SHA1 = {  # name -> sha1 hex digest (from sha1sum)
    "spk015": "f3487ffe96d7f8c79ea06e7512daeaccb02a9a9d",
    "spk024": "02ee68270b78c3e33c588c39aacbc6d0a826238e",
    "spk002": "0fb49cca3b2c7dc22d2e3f58a8dddf93e0d3d56a",
    "spk003": "faa321ab058f19edb4e4648e362083db1154e25e",
    "spk000": "bb588f888ef968ee2997d49526b9cefd8d9d3731",
    "0a7c2a8d": "3b5ddddc702b2b3d25fceb63bd1c81c6fc8c025b",
}


def published(digest):
    """((int(hash,16) % (MAX+1)) * (100 / MAX)) with MAX = 2**27 - 1, < 10 dev, < 20 test."""
    pct = Fraction((int(digest, 16) % 2 ** 27) * 100, 2 ** 27 - 1)
    return "validation" if pct < 10 else "testing" if pct < 20 else "training"


def test_split_rule_matches_published_formula():
    expected = {name: published(d) for name, d in SHA1.items()}
    # the chosen names cover all three outcomes
    assert set(expected.values()) == {"validation", "testing", "training"}
    assert expected["spk015"] == "validation" and expected["spk002"] == "testing"
    assert expected["spk000"] == "training"
    for name, split in expected.items():
        for fname in (f"{name}_nohash_0.wav", f"{name}_nohash_17.wav",
                      f"yes/{name}_nohash_3.wav", f"/abs/dir/marvin/{name}_nohash_1.wav"):
            assert which_set(fname) == split, fname


def test_split_percentages_are_settable():
    # spk015 lies below 10 %: with 0 % validation it becomes a test speaker
    assert published(SHA1["spk015"]) == "validation"
    assert which_set("spk015_nohash_0.wav", validation_percentage=0) == "testing"
    assert which_set("spk015_nohash_0.wav", 0, 0) == "training"


def test_labels_are_the_35_sorted_words():
    assert len(GSC_LABELS) == 35 and list(GSC_LABELS) == sorted(GSC_LABELS)
    assert {"marvin", "sheila", "visual", "backward"} <= set(GSC_LABELS)


def test_list_splits_reads_lists(tmp_path):
    for rel in ("yes/a_nohash_0.wav", "yes/b_nohash_0.wav", "no/c_nohash_0.wav",
                "_background_noise_/white_noise.wav"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        write_wav(tmp_path / rel, np.zeros(160, np.float32))
    (tmp_path / "validation_list.txt").write_text("yes/b_nohash_0.wav\n")
    (tmp_path / "testing_list.txt").write_text("no/c_nohash_0.wav\n")
    assert list_splits(tmp_path) == {"train": ["yes/a_nohash_0.wav"],
                                     "dev": ["yes/b_nohash_0.wav"],
                                     "test": ["no/c_nohash_0.wav"]}
