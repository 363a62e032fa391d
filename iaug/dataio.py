"""Manifests -> SpeechBrain datasets, with errors that name the file."""

import logging
import os

import speechbrain as sb
import torch

from iaug.data.audio import SAMPLE_RATE, read_audio


logger = logging.getLogger(__name__)

# "auto" holds a set in memory up to this many bytes of float32 samples (the
# demo corpus's training set: about 0.9 GB; the machine: 24 GiB)
IN_MEMORY_LIMIT = 4 << 30


class FolderManifest(dict):
    """A manifest dict of a user's own folder (:func:`folder_manifest`): its
    audio is read with ``convert=True`` (see :func:`iaug.data.audio.read_audio`)."""


def audio_dataset(manifest, task, sample_rate=SAMPLE_RATE, replacements=None, in_memory=False,
                  convert=None):
    """DynamicItemDataset with ``sig`` plus the task's targets.

    ``manifest`` is a CSV path or a dict {id: {"wav": ..., <target columns>}}.
    ``convert``: a file at another sample rate or with several channels is
    resampled and downmixed with a warning, not refused; by default only for a
    :class:`FolderManifest` (a user's files to score): a training corpus and
    its prepared test sets must be consistent.
    ``in_memory``: False reads (and decodes) every clip each time it is
    served; True decodes every clip once, here, and serves batches from
    memory (what a training run over many epochs wants: no file access or
    decoding per batch); "auto" does so when the set's samples (from the
    manifest's ``duration`` column) fit in :data:`IN_MEMORY_LIMIT` bytes.
    """
    if isinstance(manifest, dict):
        data = sb.dataio.dataset.DynamicItemDataset(manifest)
    elif os.path.isfile(manifest):
        data = sb.dataio.dataset.DynamicItemDataset.from_csv(
            manifest, replacements=replacements or {}
        )
    else:
        raise FileNotFoundError(f"manifest not found: {manifest} (run the data stages first)")
    if len(data) == 0:
        raise ValueError(f"manifest {manifest if isinstance(manifest, str) else '(dict)'} lists no utterances")

    if convert is None:
        convert = isinstance(manifest, FolderManifest)
    if in_memory == "auto":
        seconds = sum(float(data.data[i].get("duration") or "inf") for i in data.data_ids)
        in_memory = seconds * sample_rate * 4 <= IN_MEMORY_LIMIT
    read = (_cached_reader(data, sample_rate, convert) if in_memory
            else (lambda wav: read_audio(wav, sample_rate, convert)))

    @sb.utils.data_pipeline.takes("wav")
    @sb.utils.data_pipeline.provides("sig")
    def audio_pipeline(wav):
        return read(wav)

    sb.dataio.dataset.add_dynamic_item([data], audio_pipeline)
    keys = task.add_target_pipeline([data])
    sb.dataio.dataset.set_output_keys([data], ["id", "sig", *keys])
    return data


def _cached_reader(data, sample_rate, convert=False):
    """Decode every clip of ``data`` once into one tensor; returns wav -> clip.

    One flat tensor (not one per clip): a forked loader worker shares it
    without copying, and a clip is served as a view."""
    paths = [data.data[i]["wav"] for i in data.data_ids]
    clips = [read_audio(p, sample_rate, convert) for p in paths]
    offsets = torch.tensor([0] + [len(c) for c in clips]).cumsum(0).tolist()
    flat = torch.cat(clips)
    logger.info("%d clips (%.1f MB) held in memory", len(clips), flat.numel() * 4 / 2**20)
    where = {p: (offsets[k], offsets[k + 1]) for k, p in enumerate(paths)}
    return lambda wav: flat[where[wav][0]:where[wav][1]]


def error_line(err):
    """The message of an error, or of one raised in a DataLoader worker: it
    comes again with the worker's traceback in its message, the error's own
    line ("module.Type: message") last."""
    lines = str(err).strip().splitlines()
    if len(lines) > 1 and "in DataLoader worker process" in lines[0]:
        return lines[-1].split(": ", 1)[-1]
    return str(err)


def folder_manifest(data_dir, labels):
    """:class:`FolderManifest` of a folder in GSC layout (``<label>/*.wav``).

    Folders starting with '_' (``_background_noise_``) are ignored; any other
    folder must be one of ``labels``.
    """
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"no such folder: {data_dir}")
    items = FolderManifest()
    for label in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, label)
        if not os.path.isdir(folder) or label.startswith("_"):
            continue
        if label not in labels:
            raise ValueError(f"{folder}: '{label}' is not one of the recognizer's labels")
        for name in sorted(os.listdir(folder)):
            if name.endswith(".wav"):
                items[f"{label}/{name}"] = {"wav": os.path.join(folder, name), "label": label}
    if not items:
        raise ValueError(f"{data_dir} holds no <label>/*.wav files")
    return items
