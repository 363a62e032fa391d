"""Networks and front-ends: recognizers, the importance-map generator, STFT and log-mel."""

from iaug.models.frontends import STFT, LogMel
from iaug.models.generator import MaskGenerator
from iaug.models.recognizers import CTCRecognizer, FeatureClassifier, Recognizer

__all__ = ["STFT", "LogMel", "MaskGenerator", "Recognizer", "CTCRecognizer", "FeatureClassifier"]


def reads(recognizer):
    """What ``recognizer`` (maybe wrapped by DDP) reads: 'spectrogram' or 'waveform'."""
    return getattr(getattr(recognizer, "module", recognizer), "reads", "spectrogram")
