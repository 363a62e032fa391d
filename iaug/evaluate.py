"""One evaluation path for every recipe and task.

A *system* is a trained experiment folder: SpeechBrain saved its resolved
``hyperparams.yaml`` there and its checkpoints under ``save/``. The evaluator
rebuilds the system from its own hparams (its task, front-end and recognizer;
training-only augmentation is switched off), recovers the best checkpoint by
dev loss and scores a test set through the system's Brain with SpeechBrain's
``evaluate``. The task turns the predictions into per-utterance decisions
(:meth:`iaug.tasks.Task.decisions`), written to
``<system>/eval/<set>.csv``; the score goes into one results table format
(:mod:`iaug.scoring`).

A decisions file is reused only when its record (``<set>.json``) names the
same checkpoint file contents and the same manifest contents as asked now;
anything else is scored again. Files are written whole or not at all.
"""

import csv
import hashlib
import json
import logging
import os

import yaml
from hyperpyyaml import load_hyperpyyaml

from iaug.augment import generator_top_db, load_generator
from iaug.brains import RecognizerBrain
from iaug.checkpoints import checkpoint_file, freeze, load_weights
from iaug.data.download import sha256_of
from iaug.dataio import audio_dataset
from iaug.models import STFT
from iaug.hparams import plain_values
from iaug.scoring import atomic_open, atomic_write
from iaug.tasks import DECISION_FIELDS

logger = logging.getLogger(__name__)

# Top-level hparams that only shape training; switched off for scoring so a
# system loads without its training noise files or generator.
TRAINING_ONLY = ("noise_bank", "noise_mixer", "wav_augment", "spec_augment")


def system_hparams(hparams_file, output_folder, overrides=None, eval_dir=None):
    """Load an hparams file for scoring: training-only keys off, a log of its
    own (in ``eval_dir``, by default ``<output_folder>/eval``)."""
    keys = plain_values(hparams_file)
    values = {key: None for key in TRAINING_ONLY if key in keys}
    values.update(overrides or {})
    text = yaml.safe_dump(values) if values else ""
    if "train_logger" in keys:
        # Scores go to eval/log.txt, not into the training log.
        text += ("train_logger: !new:speechbrain.utils.train_logger.FileTrainLogger\n"
                 f"    save_file: {json.dumps(os.path.join(eval_dir or os.path.join(output_folder, 'eval'), 'log.txt'))}\n")
    with open(hparams_file, encoding="utf-8") as f:
        try:
            return load_hyperpyyaml(f, text)
        except KeyError as err:
            raise ValueError(f"{hparams_file}: unknown setting {err}") from None


class System:
    """A trained system ready to score test sets.

    Arguments
    ---------
    name : str
        The system's name in results tables.
    source : str
        Its experiment folder, or a checkpoint file (e.g. the authors' ``.pt``),
        which then needs ``hparams_file``.
    hparams_file : str, optional
        Hparams that build the recognizer, for a checkpoint without its own
        folder, or to override the folder's ``hyperparams.yaml``.
    overrides : dict, optional
        Plain overrides of those hparams (e.g. ``data_dir``).
    device : str
    eval_dir : str, optional
        Where decisions go (default: ``<source>/eval``).
    """

    def __init__(self, name, source, hparams_file=None, overrides=None, device="cpu",
                 eval_dir=None):
        self.name = name
        folder = source if os.path.isdir(source) else os.path.dirname(os.path.abspath(source))
        hparams_file = hparams_file or os.path.join(source, "hyperparams.yaml")
        if not os.path.isfile(hparams_file):
            raise FileNotFoundError(
                f"{hparams_file} missing: {source} is not a trained system folder "
                "(a checkpoint file needs --hparams)")
        self.checkpoint = checkpoint_file(source, "recognizer")
        self.eval_dir = eval_dir or os.path.join(folder, "eval")
        self.hparams = system_hparams(hparams_file, folder, overrides, self.eval_dir)
        self.task = self.hparams["task"]
        self.source = source
        self.loaded = False
        self.brain = RecognizerBrain(modules=self.hparams["modules"], hparams=self.hparams,
                                     run_opts={"device": device, "noprogressbar": True})
        self.fingerprint = sha256_of(self.checkpoint)

    def load_best(self):
        """Load the recognizer's weights: the best checkpoint by dev loss of a
        system folder (read where it is now, not where the saved hparams say
        it was trained), or the checkpoint file."""
        if not self.loaded:
            load_weights(self.brain.modules.recognizer, self.source, "recognizer")
            self.brain.modules.recognizer.to(self.brain.device)
            self.loaded = True
        return self

    def score(self, manifest, tag, batch_size=None, rescore=False, num_workers=None):
        """Score one test set; returns ``{"error_rate", "num_utts", "decisions"}``.

        ``manifest`` is a CSV path or a manifest dict (a folder read by
        :func:`iaug.dataio.folder_manifest`); ``tag`` names the decisions file.
        ``batch_size`` and ``num_workers`` (loader processes): by default the
        system's dev loader's; neither changes a decision.
        """
        out = os.path.join(self.eval_dir, f"{tag}.csv")
        record = {"checkpoint": self.fingerprint, "manifest": manifest_sha256(manifest)}
        saved = None if rescore else read_record(out, record)
        if saved is not None:
            logger.info("%s on %s: decisions of this checkpoint and manifest in %s, reused",
                        self.name, tag, out)
            return saved
        self.load_best()
        os.makedirs(self.eval_dir, exist_ok=True)
        data = audio_dataset(manifest, self.task)
        if self.task.sort_key:
            data = data.filtered_sorted(sort_key=self.task.sort_key)
        loader = dict(self.hparams.get("valid_dataloader_opts") or {})
        if batch_size:
            loader["batch_size"] = batch_size
        if num_workers is not None:
            loader["num_workers"] = num_workers
        self.brain.evaluate(data, progressbar=False, test_loader_kwargs=loader)
        stats = self.brain.stats["error"]
        rows = self.task.decisions(stats)
        result = {"error_rate": float(stats.summarize("error_rate")), "num_utts": len(rows)}
        write_decisions(out, rows)
        atomic_write(out[:-len(".csv")] + ".json", json.dumps({**record, **result}, indent=2))
        return {**result, "decisions": out}


def generator_with_frontend(source):
    """The frozen generator of ``source`` and the STFT it reads: from the
    system's own hparams for an experiment folder, else the paper's STFT."""
    hparams_file = os.path.join(source, "hyperparams.yaml")
    if os.path.isfile(os.path.join(source, "generator.ckpt")):  # an exported model folder
        return load_generator(source), STFT(top_db=generator_top_db(source))
    if os.path.isfile(hparams_file):
        hparams = system_hparams(hparams_file, source)
        load_weights(hparams["generator"], source, "generator")
        return freeze(hparams["generator"]), hparams["stft"]
    return load_generator(source), STFT()


def manifest_sha256(manifest):
    """Hash of what a manifest lists (a CSV's bytes, or a dict's items) and
    of the audio it lists (each file's size and modification time): a test
    set rebuilt in place under the same manifest is scored again."""
    if isinstance(manifest, dict):
        listed, rows = json.dumps(manifest, sort_keys=True), manifest.values()
    else:
        listed = sha256_of(manifest)
        with open(manifest, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    digest = hashlib.sha256(f"{listed}\n".encode())
    for row in rows:
        if "wav" in row:
            try:
                st = os.stat(row["wav"])
                digest.update(f"{row['wav']}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
            except OSError:  # scoring names the missing file
                digest.update(f"{row['wav']}\tmissing\n".encode())
    return digest.hexdigest()


def read_record(decisions_csv, expected):
    """The stored score of ``decisions_csv`` if its record matches ``expected``."""
    record_file = decisions_csv[:-len(".csv")] + ".json"
    if not (os.path.isfile(decisions_csv) and os.path.isfile(record_file)):
        return None
    with open(record_file, encoding="utf-8") as f:
        record = json.load(f)
    if any(record.get(k) != v for k, v in expected.items()):
        return None
    return {"error_rate": record["error_rate"], "num_utts": record["num_utts"],
            "decisions": decisions_csv}


def write_decisions(path, rows):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with atomic_open(path) as f:
        writer = csv.DictWriter(f, fieldnames=DECISION_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def read_decisions(path):
    """{utterance id: right?} of a decisions file (:data:`DECISION_FIELDS`)."""
    with open(path, newline="", encoding="utf-8") as f:
        return {row["ID"]: int(row["errors"]) == 0 for row in csv.DictReader(f)}

