"""What every arm's hyperparameters compose to, held against a record.

For each arm file of each recipe, with no preset and with each of its
presets, and with each set of overrides run.sh adds to every training (the
KWS front-ends, the ASR tokenizers), the file is composed as a training script
composes it (``iaug.recipe.parse_arguments`` + ``resolved_yaml``) and
described: every value, and every object as its tag (``!new:`` class,
``!apply:`` function, ...) and its arguments, by path; an object reached
through several paths is described at the shortest and named ("same as")
at the others. A change that alters what any arm builds fails here with the
first differences. After an intended change, rewrite the record:

    python tests/unit/test_composed_hparams.py --write
"""

import functools
import json
import os
import re
import subprocess
import sys

import pytest
import ruamel.yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.scalarbool import ScalarBoolean

from iaug.hparams import composed_yaml, plain_value
from iaug.recipe import parse_arguments, resolved_yaml

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "composed_hparams.json")
RECIPES = {"kws": "egs/gsc_qut/kws", "asr": "egs/librispeech/asr", "digits": "egs/gsc_qut/digits"}
ABSENT = "<absent>"


@functools.lru_cache(maxsize=None)
def variants(recipe):
    """name -> the overrides run.sh gives every training of the recipe (read
    once: the files it reads do not change during a test run)."""
    if recipe == "kws":  # --frontend, as tools/recipe_lib.sh spells it
        def frontend(name):
            out = subprocess.run(["bash", "-c", f'. tools/recipe_lib.sh && frontend_overrides {name}'],
                                 cwd=REPO, capture_output=True, text=True, check=True).stdout
            return out.split()
        return {f"--frontend {name}": frontend(name) for name in ("paper", "stable")}
    if recipe == "asr":  # the tokenizer of each corpus (hparams/data.yaml)
        data = os.path.join(REPO, RECIPES[recipe], "hparams", "data.yaml")
        return {f"--corpus {corpus}": [arg for key in ("vocab_size", "token_type") for arg in
                                       (f"--{key}", str(plain_value(data, f"tokenizer.{corpus}.{key}")))]
                for corpus in plain_value(data, "tokenizer")}
    return {"": []}


def arms(recipe):
    folder = os.path.join(REPO, RECIPES[recipe], "hparams")
    return sorted(n[:-5] for n in os.listdir(folder) if n.endswith(".yaml") and n != "data.yaml")


def presets(recipe):
    folder = os.path.join(REPO, RECIPES[recipe], "hparams", "presets")
    return [None] + sorted(n[:-5] for n in os.listdir(folder) if n.endswith(".yaml"))


@functools.lru_cache(maxsize=None)
def placeholders(hparams_file):
    """Every setting the file leaves to the command line (``!PLACEHOLDER``),
    and ``exp_dir``, each given a fixed value: ``--key /key``."""
    tree = ruamel.yaml.YAML().load(composed_yaml(hparams_file))
    keys = [k for k, v in tree.items() if getattr(getattr(v, "tag", None), "value", None) == "!PLACEHOLDER"]
    return tuple(arg for key in [*keys, "exp_dir"] for arg in (f"--{key}", f"/{key}"))


def scalar(value):
    if isinstance(value, (bool, ScalarBoolean)):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return None if value is None else str(value)


def describe(text):
    """path -> value of resolved yaml ``text`` (see module doc)."""
    tree = ruamel.yaml.YAML().load(text)
    seen = {}  # id of an object node -> every path it is found at

    def children(node):
        if isinstance(node, dict):
            return [(f".{k}", v) for k, v in node.items()]
        if isinstance(node, list):
            return [(f"[{i}]", v) for i, v in enumerate(node)]
        return []

    def visit(node, path):
        if isinstance(node, (CommentedMap, CommentedSeq, TaggedScalar)):
            seen.setdefault(id(node), []).append(path)
        for step, child in children(node):
            visit(child, path + step)

    for key, value in tree.items():
        visit(value, key)
    home = {i: min(paths, key=lambda p: (len(p), p)) for i, paths in seen.items()}
    out = {}

    def flat(node, path):
        if id(node) in home and home[id(node)] != path:
            out[path] = {"same as": home[id(node)]}
            return
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag:
            out[path] = {"tag": tag} if not isinstance(node, TaggedScalar) or not node.value else \
                {"tag": tag, "value": scalar(node.value)}
        elif isinstance(node, list) and not any(isinstance(v, (dict, list, TaggedScalar)) for v in node):
            out[path] = [scalar(v) for v in node]
            return
        elif isinstance(node, dict) and not node:
            out[path] = {}
        elif not isinstance(node, (dict, list)):
            out[path] = scalar(node)
        for step, child in children(node):
            flat(child, path + step)

    for key, value in tree.items():
        flat(value, key)
    return out


def composed(recipe, arm, preset, extra):
    """The description of one arm as a training script gets it."""
    folder = os.path.join(REPO, RECIPES[recipe], "hparams")
    hparams_file = os.path.join(folder, f"{arm}.yaml")
    argv = [hparams_file, *placeholders(hparams_file), *extra]
    if preset:
        argv += ["--preset", os.path.join(folder, "presets", f"{preset}.yaml")]
    hparams_file, _, overrides = parse_arguments(argv)
    return describe(resolved_yaml(hparams_file, overrides))


def configurations(recipe):
    """(name, preset, overrides) of every way run.sh trains an arm; the first
    is the plain file (no preset) under the first variant."""
    return [(" ".join(filter(None, [f"--preset {p}" if p else "no preset", name])), p, extra)
            for p in presets(recipe) for name, extra in variants(recipe).items()]


def record(recipe, arm):
    """{configuration: description}: the first in full, the others as what
    differs from it (``<absent>``: a path it lacks)."""
    (first, *rest) = configurations(recipe)
    reference = composed(recipe, arm, first[1], first[2])
    out = {first[0]: dict(sorted(reference.items()))}
    for name, preset, extra in rest:
        this = composed(recipe, arm, preset, extra)
        out[name] = {p: this.get(p, ABSENT) for p in sorted(set(reference) | set(this))
                     if this.get(p, ABSENT) != reference.get(p, ABSENT)}
    return out


def expand(recorded):
    """{configuration: full description} of a :func:`record`."""
    (first, reference), *rest = recorded.items()
    out = {first: reference}
    for name, delta in rest:
        full = {**reference, **delta}
        out[name] = {p: v for p, v in full.items() if v != ABSENT}
    return out


def differences(expected, actual, most=12):
    lines = []
    for path in sorted(set(expected) | set(actual)):
        old, new = expected.get(path, ABSENT), actual.get(path, ABSENT)
        if old != new:
            lines.append(f"  {path}: recorded {json.dumps(old)}, now {json.dumps(new)}")
    return lines[:most] + ([f"  ... and {len(lines) - most} more"] if len(lines) > most else [])


def golden():
    with open(GOLDEN, encoding="utf-8") as f:
        return json.load(f)


ALL_ARMS = [(recipe, arm) for recipe in RECIPES for arm in arms(recipe)]

# Settings the record holds that an arm no longer has, and must not: the
# SpecAugment-style masking every KWS arm built and only three applied
# (blocks/spec_masking.yaml), and the SNR candidates of arms no stage sweeps,
# once inherited through another arm.
MASKING = ("spec_masking", "time_mask_width", "freq_mask_width")
VANISHED = {
    **{f"kws/{arm}": MASKING for arm in ("baseline", "noise", "importantaug", "binarized")},
    "kws/generator": (*MASKING, "snr_candidates"),
    "kws/null_importantaug": (*MASKING, "snr_candidates"),
    **{f"asr/{arm}": ("snr_candidates",) for arm in ("generator", "importantaug", "null_importantaug")},
}


def setting(path):
    """The top-level setting a described path is part of."""
    return re.split(r"[.[]", path, maxsplit=1)[0]


def test_every_arm_is_recorded():
    assert sorted(golden()) == sorted(f"{r}/{a}" for r, a in ALL_ARMS)


@pytest.mark.parametrize("recipe,arm", ALL_ARMS, ids=[f"{r}/{a}" for r, a in ALL_ARMS])
def test_arm_composes_as_recorded(recipe, arm):
    vanished = VANISHED.get(f"{recipe}/{arm}", ())
    recorded = {name: {p: v for p, v in description.items() if setting(p) not in vanished}
                for name, description in expand(golden()[f"{recipe}/{arm}"]).items()}
    assert list(recorded) == [name for name, _, _ in configurations(recipe)]
    failures = []
    for name, preset, extra in configurations(recipe):
        diff = differences(recorded[name], composed(recipe, arm, preset, extra))
        if diff:
            failures.append(f"{recipe}/{arm}.yaml, {name}:\n" + "\n".join(diff))
    if failures:
        pytest.fail("composed hparams differ from tests/unit/data/composed_hparams.json (python "
                    "tests/unit/test_composed_hparams.py --write records an intended change):\n"
                    + "\n".join(failures[:3])
                    + (f"\n... and {len(failures) - 3} more configurations" if len(failures) > 3 else ""),
                    pytrace=False)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/unit/test_composed_hparams.py --write")
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    with open(GOLDEN, "w", encoding="utf-8") as f:
        json.dump({f"{r}/{a}": record(r, a) for r, a in ALL_ARMS}, f, indent=1)
        f.write("\n")
