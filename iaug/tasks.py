"""What a recognizer predicts and how it is scored.

The brains in :mod:`iaug.brains` are task-agnostic: a task object supplies the
forward pass of the recognizer, the objective, the error statistics and the
targets' data pipeline. Keyword spotting lives here; CTC speech recognition
plugs in the same way.
"""

import torch
import speechbrain as sb
from speechbrain.utils.metric_stats import ErrorRateStats

from iaug.data.gsc import GSC_LABELS


class KeywordSpotting:
    """One label per utterance; NLL on the recognizer's log-probabilities.

    Arguments
    ---------
    labels : list of str
        Class names in output order (default: the 35 GSC words, reference order).
    """

    def __init__(self, labels=None):
        self.labels = list(labels or GSC_LABELS)
        self.index = {lab: i for i, lab in enumerate(self.labels)}

    def forward(self, modules, spec_db, frame_mask):
        return modules.recognizer(spec_db, frame_mask)

    def loss(self, predictions, batch):
        return torch.nn.functional.nll_loss(predictions, batch.label_id)

    def new_stats(self):
        return ErrorRateStats()

    def append_stats(self, stats, predictions, batch):
        hyps = [[self.labels[i]] for i in predictions.argmax(-1).tolist()]
        refs = [[self.labels[i]] for i in batch.label_id.tolist()]
        stats.append(batch.id, hyps, refs)

    def add_target_pipeline(self, datasets):
        """Adds ``label_id`` (int) from the manifest's ``label`` column."""

        @sb.utils.data_pipeline.takes("id", "label")
        @sb.utils.data_pipeline.provides("label_id")
        def label_pipeline(utt_id, label):
            if label not in self.index:
                raise ValueError(
                    f"utterance {utt_id}: label '{label}' is not one of the "
                    f"{len(self.labels)} labels of this task"
                )
            return self.index[label]

        sb.dataio.dataset.add_dynamic_item(datasets, label_pipeline)
        return ["label_id"]
