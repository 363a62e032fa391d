"""What every iaug training script does around its Brain.

Command line: ``python train_x.py hparams.yaml [--preset PRESET.yaml]
[--key value ...]``. A preset is a yaml mapping of overrides: its top-level
keys apply to every hparams file, the entries of its ``per_file:`` section,
named after an hparams file's stem (``baseline``, ``noise``, ...), to that
file only. Explicit ``--key value``
overrides win over the preset.
"""

import json
import logging
import os
import sys

import speechbrain as sb
import torch
import yaml
from hyperpyyaml import load_hyperpyyaml

from iaug.dataio import audio_dataset

logger = logging.getLogger(__name__)


def preset_overrides(preset_file, hparams_file):
    """The overrides a preset gives one hparams file (see module doc)."""
    with open(preset_file, encoding="utf-8") as f:
        preset = yaml.safe_load(f) or {}
    stem = os.path.splitext(os.path.basename(hparams_file))[0]
    per_file = preset.pop("per_file", None) or {}
    return {**preset, **(per_file.get(stem) or {})}


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


def load_hparams(argv):
    hparams_file, run_opts, overrides = parse_arguments(argv)
    sb.utils.distributed.ddp_init_group(run_opts)
    with open(hparams_file, encoding="utf-8") as f:
        try:
            hparams = load_hyperpyyaml(f, overrides)
        except KeyError as err:
            raise SystemExit(f"{hparams_file}: unknown setting {err}") from None
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )
    return hparams, run_opts


def train_and_test(brain_class, argv=None):
    """Build datasets and brain from hparams, fit (resuming), test, summarise.

    The hparams name ``train_csv``, ``valid_csv`` and ``test_csvs`` (a mapping
    test-set name -> manifest); results go to ``<output_folder>/summary.json``.
    """
    hparams, run_opts = load_hparams(sys.argv[1:] if argv is None else argv)
    task = hparams["task"]
    train = audio_dataset(hparams["train_csv"], task)
    valid = audio_dataset(hparams["valid_csv"], task)
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
        train_loader_kwargs=hparams["train_dataloader_opts"],
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
    summary = brain.write_summary(os.path.join(hparams["output_folder"], "summary.json"), test=tests)
    logger.info("summary: %s", json.dumps(summary, default=float))
    if torch.distributed.is_initialized():
        # Left to interpreter exit, gloo's threads can abort rank 0
        # ("terminate called without an active exception") after a good run.
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return brain, summary


def plain_value(hparams_file, key, preset_file=None):
    """A plain setting of an hparams file after its preset (tags are not run)."""
    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    with open(hparams_file, encoding="utf-8") as f:
        values = yaml.load(f, Loader=_Loader)
    if preset_file:
        values.update(preset_overrides(preset_file, hparams_file))
    if key not in values:
        raise SystemExit(f"{hparams_file}: no setting '{key}'")
    return values[key]


if __name__ == "__main__":
    # Used by run.sh: python -m iaug.recipe HPARAMS KEY [PRESET] -> the value(s)
    value = plain_value(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(" ".join(map(str, value)) if isinstance(value, list) else value)
