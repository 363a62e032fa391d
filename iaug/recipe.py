"""What every iaug training script does around its Brain.

Command line: ``python train_x.py hparams.yaml [--preset PRESET.yaml]
[--key value ...]``. A preset is a yaml mapping of overrides (epochs, batch
size, ...); explicit ``--key value`` overrides win over it.
"""

import json
import logging
import os
import sys

import speechbrain as sb
import yaml
from hyperpyyaml import load_hyperpyyaml

from iaug.dataio import audio_dataset

logger = logging.getLogger(__name__)


def parse_arguments(argv):
    """SpeechBrain's parser plus ``--preset FILE`` (yaml overrides)."""
    argv = list(argv)
    preset = {}
    if "--preset" in argv:
        i = argv.index("--preset")
        if i + 1 >= len(argv):
            raise SystemExit("--preset needs a yaml file")
        path = argv.pop(i + 1)
        argv.pop(i)
        with open(path, encoding="utf-8") as f:
            preset = yaml.safe_load(f) or {}
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
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
    return brain, summary
