"""Manifests -> SpeechBrain datasets, with errors that name the file."""

import os

import speechbrain as sb
import soundfile as sf
import torch


def read_wav(path, sample_rate=16000):
    """Mono float32 waveform; a clear error names the file on any problem."""
    try:
        wav, sr = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as err:
        raise ValueError(f"cannot read audio file {path}: {err}") from None
    if sr != sample_rate:
        raise ValueError(f"audio file {path} is {sr} Hz, expected {sample_rate} Hz")
    if wav.shape[0] == 0:
        raise ValueError(f"audio file {path} is empty")
    return torch.from_numpy(wav[:, 0].copy())


def audio_dataset(csv_path, task, sample_rate=16000, replacements=None):
    """DynamicItemDataset of a manifest with ``sig`` plus the task's targets."""
    if not os.path.isfile(csv_path):
        raise FileNotFoundError(f"manifest not found: {csv_path} (run the data stages first)")
    data = sb.dataio.dataset.DynamicItemDataset.from_csv(
        csv_path, replacements=replacements or {}
    )
    if len(data) == 0:
        raise ValueError(f"manifest {csv_path} lists no utterances")

    @sb.utils.data_pipeline.takes("wav")
    @sb.utils.data_pipeline.provides("sig")
    def audio_pipeline(wav):
        return read_wav(wav, sample_rate)

    sb.dataio.dataset.add_dynamic_item([data], audio_pipeline)
    keys = task.add_target_pipeline([data])
    sb.dataio.dataset.set_output_keys([data], ["id", "sig", *keys])
    return data
