"""What every iaug training script does around its Brain.

Command line: ``python train_x.py hparams.yaml [--preset PRESET.yaml]
[--key value ...]``.

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
"""

import io
import json
import logging
import os
import re
import sys
from datetime import date
from hashlib import sha256

import ruamel.yaml
import speechbrain as sb
import torch
import yaml
from hyperpyyaml import load_hyperpyyaml, resolve_references

from iaug.dataio import audio_dataset, error_line

logger = logging.getLogger(__name__)


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


# What the common settings must be; checked before any work starts.
CHECKS = {
    "batch_size": (int, 1), "number_of_epochs": (int, 1), "patience": (int, 0),
    "num_workers": (int, 0), "lr_step_size": (int, 1), "ckpt_interval_steps": (int, 0),
    "seed": (int, None), "lr": (float, 0.0, "above"), "weight_decay": (float, 0.0),
    "snr_db": (float, None), "q": (float, 0.0),
}


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_values(values, hparams_file):
    """One line naming the first setting of the wrong type or range."""
    for key, (kind, low, *strict) in CHECKS.items():
        if key not in values or values[key] is None and key != "seed":
            continue
        value = values[key]
        if key == "snr_db" and not _number(value):  # or a range: one SNR per utterance drawn in it
            from iaug.mixing import snr_range

            try:
                snr_range(value)
            except ValueError:
                raise SystemExit(f"{hparams_file}: {key} must be a number or a range [low, high], "
                                 f"got {value!r}") from None
            continue
        ok = _number(value)
        ok = ok and (kind is float or isinstance(value, int))
        ok = ok and (low is None or (value > low if strict else value >= low))
        if not ok:
            bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"
            raise SystemExit(f"{hparams_file}: {key} must be {'an integer' if kind is int else 'a number'}"
                             f"{bound}, got {value!r}")


def parse_arguments(argv):
    """SpeechBrain's parser plus ``--preset FILE`` (yaml overrides)."""
    argv = list(argv)
    preset_file = None
    if "--preset" in argv:
        i = argv.index("--preset")
        if i + 1 >= len(argv):
            raise SystemExit("--preset needs a yaml file")
        preset_file = argv.pop(i + 1)
        argv.pop(i)
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    preset = preset_overrides(preset_file, hparams_file) if preset_file else {}
    merged = {**preset, **(yaml.safe_load(overrides) or {} if overrides else {})}
    return hparams_file, run_opts, yaml.safe_dump(merged) if merged else ""


BASE_KEY = "base"


def _tag(node):
    return getattr(getattr(node, "tag", None), "value", None)


REMOVE_TAG = "!remove"


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


# Top-level settings the code reads by name (iaug.recipe, iaug.brains,
# SpeechBrain's Brain, run.sh); any other key must be referred to by another
# (``!ref <key>``), or it is a typo that would be silently ignored.
READ_BY_CODE = {
    "task", "modules", "opt_class", "lr_scheduler", "epoch_counter", "checkpointer",
    "train_logger", "train_dataloader_opts", "valid_dataloader_opts", "train_csv", "valid_csv",
    "test_csvs", "output_folder", "noise_mixer", "wav_augment", "spec_augment", "frozen",
    "init_from", "loss_weights", "seed", "snr_candidates", "q_candidates", "__set_seed",
    "audio_in_memory",
}


def unused_settings(text):
    """Top-level keys of composed yaml ``text`` that nothing reads."""
    from speechbrain.core import RunOptions

    keys = set(ruamel.yaml.YAML().load(text) or {})
    # a <key> named in a comment is not a use
    referred = set(re.findall(r"<([A-Za-z_]\w*)", re.sub(r"(?m)(^|\s)#.*$", "", text)))
    return sorted(keys - referred - READ_BY_CODE - set(RunOptions().as_dict()))


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


def resolved_yaml(hparams_file, overrides=""):
    """:func:`composed_yaml` with every ``!ref`` resolved. hyperpyyaml resolves
    in key order, and a base key may refer to a key its arm adds later whose
    value is itself a reference (``init_from`` -> ``init_generator`` ->
    ``exp_dir``): resolving again until nothing changes settles such chains."""
    text = composed_yaml(hparams_file, overrides)
    for _ in range(5):
        resolved = resolve_references(io.StringIO(text)).getvalue()
        if resolved == text:
            break
        text = resolved
    return text


def load(hparams_file, overrides=None):
    """The hparams objects of a file after its bases and ``overrides`` (a
    dict or yaml text): what ``load_hyperpyyaml`` gives for a plain file."""
    if isinstance(overrides, dict):
        overrides = yaml.safe_dump(overrides)
    return load_hyperpyyaml(io.StringIO(resolved_yaml(hparams_file, overrides or "")))


def load_hparams(argv):
    hparams_file, run_opts, overrides = parse_arguments(argv)
    if distributed_rank() is None:  # a torchrun rank takes its own GPU
        try:
            check_device(run_opts.get("device") or "cpu")
        except ValueError as err:
            raise SystemExit(str(err)) from None
    unused = unused_settings(composed_yaml(hparams_file))  # the file's own typos
    if unused:
        raise SystemExit(f"{hparams_file}: setting(s) {', '.join(unused)} used by nothing "
                         "(a typo?)")
    check_values(_plain(composed_yaml(hparams_file, overrides)), hparams_file)
    sb.utils.distributed.ddp_init_group(run_opts)
    text = resolved_yaml(hparams_file, overrides)
    hparams = load_hyperpyyaml(io.StringIO(text))
    sb.create_experiment_directory(experiment_directory=hparams["output_folder"])
    if sb.utils.distributed.if_main_process():
        # The resolved hparams of this run, base and overrides included: what
        # the evaluator and iaug-export rebuild the system from.
        with open(os.path.join(hparams["output_folder"], "hyperparams.yaml"), "w",
                  encoding="utf-8") as f:
            f.write(f"# Generated {date.today()} from:\n# {os.path.abspath(hparams_file)}\n"
                    "# yamllint disable\n")
            f.write(text)
    return hparams, run_opts


def train_and_test(brain_class, argv=None):
    """Build datasets and brain from hparams, fit (resuming), test, summarise.

    The hparams name ``train_csv``, ``valid_csv`` and ``test_csvs`` (a mapping
    test-set name -> manifest); results go to ``<output_folder>/summary.json``.
    A bad audio file, a missing file or an unusable checkpoint (errors our
    readers raise on purpose, naming the file), or a loss that is not finite,
    ends the run with that one line.
    """
    from iaug.checkpoints import CheckpointError
    from iaug.data.audio import AudioError

    hparams, run_opts = load_hparams(sys.argv[1:] if argv is None else argv)
    task = hparams["task"]
    in_memory = hparams.get("audio_in_memory", False)
    try:
        train = audio_dataset(hparams["train_csv"], task, in_memory=in_memory)
        valid = audio_dataset(hparams["valid_csv"], task, in_memory=in_memory)
        brain = brain_class(
            modules=hparams["modules"],
            opt_class=hparams["opt_class"],
            hparams=hparams,
            run_opts=run_opts,
            checkpointer=hparams["checkpointer"],
        )
        brain.fit(
            hparams["epoch_counter"],
            train,
            valid,
            train_loader_kwargs=train_loader_options(hparams, train),
            valid_loader_kwargs=hparams["valid_dataloader_opts"],
        )
        tests = {}
        for name, csv in (hparams.get("test_csvs") or {}).items():
            brain.evaluate(
                audio_dataset(csv, task),
                min_key="loss",
                test_loader_kwargs=hparams["valid_dataloader_opts"],
            )
            tests[name] = brain.test_stats
    except (AudioError, CheckpointError, FileNotFoundError, FloatingPointError) as err:
        # not SpeechBrain's logged traceback: the message says all
        raise SystemExit(f"error: {error_line(err)}") from None
    summary = brain.write_summary(os.path.join(hparams["output_folder"], "summary.json"), test=tests)
    logger.info("summary: %s", json.dumps(summary, default=float))
    if torch.distributed.is_initialized():
        # Left to interpreter exit, gloo's threads can abort rank 0
        # ("terminate called without an active exception") after a good run.
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return brain, summary


def check_device(device):
    """``device`` as given, or a one-line ValueError: cpu, cuda or cuda:N of a
    GPU torch sees (else torch's own error comes as a traceback at first use)."""
    m = re.fullmatch(r"cpu|cuda(?::(\d+))?", str(device))
    if not m:
        raise ValueError(f"--device is cpu, cuda or cuda:N (got '{device}')")
    if device != "cpu" and torch.cuda.device_count() <= int(m.group(1) or 0):
        raise ValueError(f"--device {device}: torch sees no such GPU on this machine (use --device cpu)")
    return device


def distributed_rank():
    """This process's rank under torchrun, or None for a single process."""
    rank = os.environ.get("RANK")
    return int(rank) if rank is not None and os.environ.get("LOCAL_RANK") is not None else None


def train_loader_options(hparams, train):
    """The training loader's options. Under torchrun a shuffled order is a
    sampler seeded by the run's ``seed`` (SpeechBrain's DistributedSampler
    would shuffle with seed 0 whatever the run's seed), split between ranks."""
    opts = dict(hparams["train_dataloader_opts"])
    if distributed_rank() is not None and opts.pop("shuffle", False):
        opts["sampler"] = sb.dataio.sampler.ReproducibleRandomSampler(train, seed=hparams["seed"])
    return opts


def seed_rank_stream(seed):
    """Under torchrun, rank r > 0 draws its noise clips, offsets, SNRs and
    masks from a stream of its own, derived from ``seed`` (one seed for all
    ranks would give N ranks the same draws); rank 0 keeps the run's stream,
    so a single process draws exactly what it always drew."""
    rank = distributed_rank()
    if rank:
        torch.manual_seed(int.from_bytes(sha256(f"{seed}:{rank}".encode()).digest()[:7], "big"))
    return rank


class _PlainLoader(yaml.SafeLoader):
    """yaml without hyperpyyaml's tags: a tagged value reads as None."""


_PlainLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _plain(text):
    return yaml.load(text, Loader=_PlainLoader) or {}


def plain_values(hparams_file, preset_file=None):
    """The settings of an hparams file after its preset, tags not run
    (a tagged value such as ``!new:...`` reads as None)."""
    values = _plain(composed_yaml(hparams_file))
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
    # Used by run.sh: python -m iaug.recipe HPARAMS KEY [PRESET] -> the value(s)
    value = plain_value(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(" ".join(map(str, value)) if isinstance(value, list) else value)
