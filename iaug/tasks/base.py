"""The contract every task fulfils, and the parts tasks share.

The brains of :mod:`iaug.brains` and the evaluator of :mod:`iaug.evaluate`
know nothing of what is recognised: a task object, built in the hparams
(``task: !new:iaug.tasks.KeywordSpotting``), supplies it. A new task is one
subclass of :class:`Task` in a file of this package plus its yaml.
"""

import torch
import speechbrain as sb
from speechbrain.utils.metric_stats import ErrorRateStats

# Columns of the per-utterance decisions a task writes (one CSV per system
# and test set): what the paired tests over systems read.
DECISION_FIELDS = ["ID", "reference", "hypothesis", "errors", "ref_tokens"]


class Task:
    """What a recognizer predicts, its objective and how it is scored.

    A subclass implements :meth:`loss`, :meth:`hypotheses`,
    :meth:`references` and :meth:`add_target_pipeline`; scoring
    (SpeechBrain's ``ErrorRateStats`` over token sequences) and
    per-utterance decisions are shared.
    """

    #: the error rate's name in tables and plots
    metric_name = "error rate"
    #: manifest column that orders test sets for scoring (None: as listed)
    sort_key = None

    def forward(self, modules, inputs, lengths):
        """The recognizer's predictions. ``inputs``/``lengths`` are the dB
        spectrogram and its frame mask, or the waveform and its relative
        lengths, as ``modules.recognizer.reads`` says."""
        return modules.recognizer(inputs, lengths)

    def loss(self, predictions, batch):
        """Training objective of a batch (a scalar tensor)."""
        raise NotImplementedError

    def hypotheses(self, predictions):
        """Predicted token sequences, one list of str per utterance."""
        raise NotImplementedError

    def references(self, batch):
        """Reference token sequences, one list of str per utterance."""
        raise NotImplementedError

    def add_target_pipeline(self, datasets):
        """Add the targets' dynamic items to ``datasets``; returns their keys."""
        raise NotImplementedError

    def new_stats(self):
        return ErrorRateStats()

    def append_stats(self, stats, predictions, batch):
        stats.append(batch.id, self.hypotheses(predictions), self.references(batch))

    @staticmethod
    def decisions(stats):
        """Per-utterance rows (:data:`DECISION_FIELDS`) of filled ``stats``:
        the tokens joined by spaces, the edit count and the reference length;
        an utterance is right when ``errors`` is 0."""
        return [{"ID": s["key"], "reference": " ".join(s["ref_tokens"]),
                 "hypothesis": " ".join(s["hyp_tokens"]), "errors": s["num_edits"],
                 "ref_tokens": s["num_ref_tokens"]} for s in stats.scores]


def add_text_item(datasets, takes, provides, fn):
    """``provides`` = fn(*``takes``) as a dynamic item of every dataset."""
    takes = [takes] if isinstance(takes, str) else takes
    pipeline = sb.utils.data_pipeline.takes(*takes)(
        sb.utils.data_pipeline.provides(provides)(fn))
    sb.dataio.dataset.add_dynamic_item(datasets, pipeline)


def relative_to_lengths(rel_lengths, max_len):
    """SpeechBrain relative lengths -> integer lengths."""
    return torch.round(rel_lengths * max_len).long()
