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
"""

import torch
from speechbrain.inference.interfaces import Pretrained

from iaug.models import reads


def wav_log_probs(mods, wavs, wav_lens=None):
    """Log-probabilities [B, classes] of a batch, as the recognizer was trained."""
    if reads(mods["recognizer"]) == "waveform":
        return mods["recognizer"](wavs, wav_lens)
    stft = mods["stft"]
    spec = stft(wavs)
    frame_mask = None if wav_lens is None else stft.frame_mask(wav_lens, spec.shape[-1])
    return mods["recognizer"](stft.db(spec), frame_mask)


class ImportantAugClassifier(Pretrained):
    """A keyword classifier with its importance-map generator.

    The hparams name ``labels`` (class names in output order), ``stft`` (the
    generator's front end), a ``generator`` and a ``recognizer`` module.
    """

    MODULES_NEEDED = ["stft", "generator", "recognizer"]
    HPARAMS_NEEDED = ["labels"]

    def classify_batch(self, wavs, wav_lens=None):
        """[B, samples] at 16 kHz -> (log_probs [B, C], best score [B],
        best index [B], best labels)."""
        wavs = wavs.to(self.device).float()
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
            spec = self.mods.stft(wavs.to(self.device).float())
            return 1.0 - self.mods.generator(self.mods.stft.db(spec))

    def importance_map(self, path):
        """[F, frames] importance map of one audio file (F = 257)."""
        return self.importance_batch(self.load_audio(path)[None])[0]

    def forward(self, wavs, wav_lens=None):
        return self.classify_batch(wavs, wav_lens)[0]
