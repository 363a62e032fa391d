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
or infinite samples are one-line errors naming it. A URL is refused (download
it first); a ``FetchSource`` is fetched as SpeechBrain does.
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


def checked_batch(wavs, wav_lens=None):
    """(``wavs`` [B, samples] float, ``wav_lens`` [B] or None), or a one-line
    ValueError: a batch is 2-D and not empty (a 1-D waveform would be read as
    a batch of single samples), and relative lengths are B numbers in (0, 1]."""
    if not isinstance(wavs, torch.Tensor):
        raise ValueError(f"wavs: a [batch, samples] tensor, got {type(wavs).__name__}")
    if wavs.ndim != 2:
        raise ValueError(f"wavs: a [batch, samples] tensor, got shape {tuple(wavs.shape)} "
                         "(one waveform: wavs[None])")
    if wavs.shape[0] == 0 or wavs.shape[1] == 0:
        raise ValueError(f"wavs: an empty batch (shape {tuple(wavs.shape)})")
    if wav_lens is not None:
        wav_lens = torch.as_tensor(wav_lens, dtype=torch.float)
        if wav_lens.shape != (wavs.shape[0],):
            raise ValueError(f"wav_lens: {wavs.shape[0]} relative lengths, got shape "
                             f"{tuple(wav_lens.shape)}")
        if not ((wav_lens > 0) & (wav_lens <= 1)).all():
            raise ValueError(f"wav_lens: relative lengths in (0, 1], got {wav_lens.tolist()}")
    return finite(wavs.float()), wav_lens


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
        if isinstance(path, FetchSource):  # SpeechBrain fetches it
            source, name = split_path(path)
            local = str(fetch(name, source=source, savedir=savedir))
        elif "://" in local:
            raise ValueError(f"{local}: a URL; download the file and give its local path")
        elif not os.path.isfile(local):  # never a model-hub lookup for a mistyped path
            raise FileNotFoundError(f"audio file not found: {local}")
        rate = getattr(self.hparams, "sample_rate", SAMPLE_RATE)
        return read_audio(local, rate, convert=True).to(self.device)

    def classify_batch(self, wavs, wav_lens=None):
        """[B, samples] at 16 kHz -> (log_probs [B, C], best score [B],
        best index [B], best labels)."""
        wavs, wav_lens = checked_batch(wavs, wav_lens)
        wavs = wavs.to(self.device)
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
            spec = self.mods.stft(checked_batch(wavs)[0].to(self.device))
            return 1.0 - self.mods.generator(self.mods.stft.db(spec))

    def importance_map(self, path):
        """[F, frames] importance map of one audio file (F = 257)."""
        return self.importance_batch(self.load_audio(path)[None])[0]

    def forward(self, wavs, wav_lens=None):
        return self.classify_batch(wavs, wav_lens)[0]
