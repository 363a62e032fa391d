"""Trained ImportantAug systems in SpeechBrain's inference style.

    from iaug.inference import ImportantAugClassifier
    model = ImportantAugClassifier.from_hparams(source="exported/", savedir="tmp/")
    label, log_probs = model.classify_file("yes.wav")
    importance = model.importance_map("yes.wav")     # [257, frames], 1 - noise mask

A folder written by ``iaug-export`` holds hyperparams.yaml, recognizer.ckpt,
generator.ckpt and labels.txt. The recognizer is any of :mod:`iaug.models`:
one that reads the STFT dB spectrogram (the paper's) or one that reads the
waveform (e.g. :class:`iaug.models.FeatureClassifier` on SpeechBrain's
x-vector lobes); the generator always reads the ``stft`` front-end.

Files are read as ``iaug-eval --data_dir`` reads them
(:func:`iaug.data.audio.read_audio` with ``convert=True``): another sample
rate is resampled and several channels averaged, with a warning naming the
file; a clip shorter than the STFT window is zero-padded; a missing file, NaN
or infinite samples are one-line errors naming it.
"""

import os

import torch
from speechbrain.inference.interfaces import Pretrained
from speechbrain.utils.data_utils import split_path
from speechbrain.utils.fetching import FetchSource, fetch

from iaug.data.audio import SAMPLE_RATE, read_audio
from iaug.models import reads


def wav_log_probs(mods, wavs, wav_lens=None):
    """Log-probabilities [B, classes] of a batch, as the recognizer was trained."""
    if reads(mods["recognizer"]) == "waveform":
        return mods["recognizer"](wavs, wav_lens)
    stft = mods["stft"]
    spec = stft(wavs)
    frame_mask = None if wav_lens is None else stft.frame_mask(wav_lens, spec.shape[-1])
    return mods["recognizer"](stft.db(spec), frame_mask)


def finite(wavs):
    """``wavs``, refused if any sample is NaN or infinite (the networks would
    answer with a confident class and a NaN importance map)."""
    if not torch.isfinite(wavs).all():
        raise ValueError("the waveforms hold NaN or infinite samples")
    return wavs


class ImportantAugClassifier(Pretrained):
    """A keyword classifier with its importance-map generator.

    The hparams name ``labels`` (class names in output order), ``stft`` (the
    generator's front end), a ``generator`` and a ``recognizer`` module.
    """

    MODULES_NEEDED = ["stft", "generator", "recognizer"]
    HPARAMS_NEEDED = ["labels"]

    def load_audio(self, path, savedir=None):
        """Mono waveform [samples] of a local file, a URL or a hub path, at the
        model's rate. Replaces SpeechBrain's reader, which resamples silently,
        passes NaN through and answers a missing file with "System error."."""
        local = str(path)
        remote = "://" in local or not os.path.isdir(os.path.dirname(local) or ".")
        if isinstance(path, FetchSource) or remote:  # SpeechBrain fetches it
            source, name = split_path(path)
            local = str(fetch(name, source=source, savedir=savedir))
        rate = getattr(self.hparams, "sample_rate", SAMPLE_RATE)
        return read_audio(local, rate, convert=True).to(self.device)

    def classify_batch(self, wavs, wav_lens=None):
        """[B, samples] at 16 kHz -> (log_probs [B, C], best score [B],
        best index [B], best labels)."""
        wavs = finite(wavs.to(self.device).float())
        if wav_lens is not None:
            wav_lens = wav_lens.to(self.device)
        with torch.no_grad():
            log_probs = wav_log_probs(self.mods, wavs, wav_lens)
        score, index = log_probs.max(dim=-1)
        return log_probs, score, index, [self.hparams.labels[i] for i in index.tolist()]

    def classify_file(self, path):
        """(label, log-probabilities [C]) of one audio file."""
        log_probs, _, _, labels = self.classify_batch(self.load_audio(path)[None])
        return labels[0], log_probs[0]

    def importance_batch(self, wavs):
        """[B, samples] -> [B, F, frames] importance (1 - the generator's noise mask)."""
        with torch.no_grad():
            spec = self.mods.stft(finite(wavs.to(self.device).float()))
            return 1.0 - self.mods.generator(self.mods.stft.db(spec))

    def importance_map(self, path):
        """[F, frames] importance map of one audio file (F = 257)."""
        return self.importance_batch(self.load_audio(path)[None])[0]

    def forward(self, wavs, wav_lens=None):
        return self.classify_batch(wavs, wav_lens)[0]
