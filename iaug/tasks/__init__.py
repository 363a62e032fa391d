"""Tasks: what a recognizer predicts and how it is scored (see :mod:`iaug.tasks.base`)."""

from iaug.tasks.base import DECISION_FIELDS, Task
from iaug.tasks.ctc import CTCRecognition
from iaug.tasks.kws import KeywordSpotting

__all__ = ["Task", "DECISION_FIELDS", "KeywordSpotting", "CTCRecognition"]
