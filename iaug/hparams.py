"""Hparams files and presets as yaml: ``base:`` chains, presets, plain values.

An hparams file may name a ``base:`` file (a path relative to it): it then
holds only what differs from its base, and is read as the base with its own
keys laid over it (mappings merged key by key, anything else replaced; a key
set to ``!remove`` is taken out of the base). An arm of a recipe is such a
file over the recipe's ``baseline.yaml``; bases may chain. ``base:`` may also
be a list, ``[baseline.yaml, blocks/noise_training.yaml]``: the first base
with each further one laid over it, in order, then the file's own keys; a
block is a file of settings several arms share, with no base of its own.

A preset is a yaml mapping of overrides: its top-level keys apply to every
hparams file, the entries of its ``per_file:`` section, named after an hparams
file's stem (``baseline``, ``noise``, ...), to that file only. Explicit
``--key value`` overrides win over the preset. Every override must name a
setting the file (with its base) has. A preset may name a ``base:`` preset
too (``bench.yaml`` over ``demo.yaml``): its own top-level keys and
``per_file`` entries are laid over the base's.

Nothing here imports torch: the recipes' shell scripts read a setting with
``python3 -m iaug.hparams HPARAMS KEY [PRESET]`` (the value printed) at the
cost of yaml alone.
"""

import io
import os
import sys

import ruamel.yaml
import yaml

BASE_KEY = "base"
REMOVE_TAG = "!remove"


def read_yaml(stream, name, reader):
    """``reader(stream)``; yaml that does not parse is one line naming the
    file and the line (pyyaml's and ruamel's errors alike)."""
    try:
        return reader(stream)
    except (yaml.YAMLError, ruamel.yaml.YAMLError) as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SystemExit(f"{name}: not valid yaml{where} ({problem})") from None


def read_preset(preset_file, _seen=()):
    """A preset's mapping after its ``base:`` chain: the base's keys, with the
    preset's own top-level keys and ``per_file`` entries (key by key, per
    file) laid over them."""
    if not os.path.isfile(preset_file):
        raise SystemExit(f"preset {preset_file} not found")
    with open(preset_file, encoding="utf-8") as f:
        preset = read_yaml(f, preset_file, yaml.safe_load) or {}
    if not isinstance(preset, dict):
        raise SystemExit(f"{preset_file}: a preset is a yaml mapping")
    base = preset.pop(BASE_KEY, None)
    if base is None:
        return preset
    base_file = os.path.normpath(os.path.join(os.path.dirname(preset_file), base))
    if base_file in _seen:
        raise SystemExit(f"{preset_file}: base chain loops back to {base_file}")
    merged = read_preset(base_file, (*_seen, os.path.normpath(preset_file)))
    per_file = {name: dict(entry or {}) for name, entry in (merged.pop("per_file", None) or {}).items()}
    for name, entry in (preset.pop("per_file", None) or {}).items():
        per_file.setdefault(name, {}).update(entry or {})
    merged.update(preset)
    if per_file:
        merged["per_file"] = per_file
    return merged


def preset_overrides(preset_file, hparams_file):
    """The overrides a preset gives one hparams file (see module doc)."""
    preset = read_preset(preset_file)
    stem = os.path.splitext(os.path.basename(hparams_file))[0]
    per_file = preset.pop("per_file", None) or {}
    folder = os.path.dirname(os.path.abspath(hparams_file))
    for name in per_file:
        if not os.path.isfile(os.path.join(folder, f"{name}.yaml")):
            raise SystemExit(f"{preset_file}: per_file entry '{name}' names no hparams file "
                             f"({folder}/{name}.yaml)")
    return {**preset, **(per_file.get(stem) or {})}


def _tag(node):
    return getattr(getattr(node, "tag", None), "value", None)


def _lay_over(tree, top, name="overrides"):
    """``top``'s keys (from ``name``) laid over ``tree``: a mapping over a
    mapping is merged key by key unless it names another class (another
    ``!new:`` tag); ``!remove`` takes the key out; anything else is replaced."""
    for key, value in top.items():
        old = tree.get(key)
        if _tag(value) == REMOVE_TAG:
            if key not in tree:
                raise SystemExit(f"{name}: '{key}: {REMOVE_TAG}' names no setting of its base")
            del tree[key]
        elif (isinstance(value, dict) and isinstance(old, dict)
                and _tag(value) in (None, _tag(old))):
            _lay_over(tree[key], value, name)
        else:
            tree[key] = value
    return tree


def saved_hparams(folder):
    """The yaml tree of the hyperparams.yaml SpeechBrain saved in an experiment
    (or exported model) folder, tags kept and nothing run; {} where there is none."""
    path = os.path.join(os.fspath(folder), "hyperparams.yaml")
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        tree = ruamel.yaml.YAML().load(f)
    return tree if hasattr(tree, "get") else {}


def compose(hparams_file):
    """The yaml tree of an hparams file after its ``base:`` chain (tags kept)."""
    with open(hparams_file, encoding="utf-8") as f:
        tree = read_yaml(f, hparams_file, ruamel.yaml.YAML().load) or {}
    base = tree.pop(BASE_KEY, None)
    if base is None:
        return tree
    names = base if isinstance(base, list) else [base]
    if not names:
        raise SystemExit(f"{hparams_file}: base: [] names no file")
    merged = None
    for name in names:
        base_file = os.path.join(os.path.dirname(hparams_file), name)
        if not os.path.isfile(base_file):
            raise SystemExit(f"{hparams_file}: base file {base_file} not found")
        part = compose(base_file)
        merged = part if merged is None else _lay_over(merged, part, base_file)
    return _lay_over(merged, tree, hparams_file)


def composed_yaml(hparams_file, overrides=""):
    """yaml text of an hparams file after its bases and ``overrides`` (yaml
    text); an override that names no setting of the file is an error."""
    tree = compose(hparams_file)
    if overrides:
        for key, value in (ruamel.yaml.YAML().load(overrides) or {}).items():
            if key not in tree:
                raise SystemExit(f"{hparams_file}: unknown setting '{key}' (a typo? the file "
                                 f"and its base have no such key)")
            _lay_over(tree, {key: value})
    out = io.StringIO()
    ruamel.yaml.YAML().dump(tree, out)
    return out.getvalue()


def snr_range(snr_db):
    """(low, high) of an SNR range ``[low, high]`` (the one rule, also for the
    hparams check); ValueError naming it otherwise."""
    ok = (isinstance(snr_db, (list, tuple)) and len(snr_db) == 2 and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in snr_db) and snr_db[0] <= snr_db[1])
    if not ok:
        raise ValueError(f"snr_db: a number or a range [low, high] in dB, got {snr_db!r}")
    return float(snr_db[0]), float(snr_db[1])


class _PlainLoader(yaml.SafeLoader):
    """yaml without hyperpyyaml's tags: a tagged value reads as None."""


_PlainLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def plain_yaml(text):
    """The mapping a yaml text holds, its tags not run (read as None); {} for
    an empty text."""
    return yaml.load(text, Loader=_PlainLoader) or {}


def plain_values(hparams_file, preset_file=None):
    """The settings of an hparams file after its preset, tags not run
    (a tagged value such as ``!new:...`` reads as None)."""
    values = plain_yaml(composed_yaml(hparams_file))
    if preset_file:
        values.update(preset_overrides(preset_file, hparams_file))
    return values


def plain_value(hparams_file, key, preset_file=None):
    """One plain setting of an hparams file after its preset; ``a.b`` reads
    ``b`` of mapping ``a``."""
    value = plain_values(hparams_file, preset_file)
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise SystemExit(f"{hparams_file}: no setting '{key}'")
        value = value[part]
    return value


if __name__ == "__main__":
    # the shell's setting lookups: python -m iaug.hparams HPARAMS KEY [PRESET] -> the value(s)
    value = plain_value(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(" ".join(map(str, value)) if isinstance(value, list) else value)
