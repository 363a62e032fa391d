"""Manifests -> SpeechBrain datasets, with errors that name the file."""

import os

import speechbrain as sb

from iaug.data.audio import SAMPLE_RATE, read_audio


def audio_dataset(manifest, task, sample_rate=SAMPLE_RATE, replacements=None):
    """DynamicItemDataset with ``sig`` plus the task's targets.

    ``manifest`` is a CSV path or a dict {id: {"wav": ..., <target columns>}}.
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

    @sb.utils.data_pipeline.takes("wav")
    @sb.utils.data_pipeline.provides("sig")
    def audio_pipeline(wav):
        return read_audio(wav, sample_rate)

    sb.dataio.dataset.add_dynamic_item([data], audio_pipeline)
    keys = task.add_target_pipeline([data])
    sb.dataio.dataset.set_output_keys([data], ["id", "sig", *keys])
    return data


def folder_manifest(data_dir, labels):
    """Manifest dict of a folder in GSC layout (``<label>/*.wav``).

    Folders starting with '_' (``_background_noise_``) are ignored; any other
    folder must be one of ``labels``.
    """
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"no such folder: {data_dir}")
    items = {}
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
