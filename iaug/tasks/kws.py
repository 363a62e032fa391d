"""Keyword spotting: one label per utterance."""

import torch

from iaug.tasks.base import Task, add_text_item


class KeywordSpotting(Task):
    """One label per utterance; NLL on the recognizer's log-probabilities.

    Arguments
    ---------
    labels : list of str
        Class names in the recognizer's output order (the recipe's yaml
        lists them: the 35 GSC words for egs/gsc_qut/kws).
    label_column : str
        Manifest column holding the label.
    """

    def __init__(self, labels, label_column="label"):
        if not labels:
            raise ValueError("KeywordSpotting needs the list of labels")
        self.labels = [str(lab) for lab in labels]
        self.index = {lab: i for i, lab in enumerate(self.labels)}
        self.label_column = label_column

    def loss(self, predictions, batch):
        return torch.nn.functional.nll_loss(predictions, batch.label_id)

    def hypotheses(self, predictions):
        return [[self.labels[i]] for i in predictions.argmax(-1).tolist()]

    def references(self, batch):
        return [[self.labels[i]] for i in batch.label_id.tolist()]

    def add_target_pipeline(self, datasets):
        """Adds ``label_id`` (int) from the manifest's label column."""

        def label_id(utt_id, label):
            if label not in self.index:
                raise ValueError(f"utterance {utt_id}: label '{label}' is not one of the "
                                 f"{len(self.labels)} labels of this task")
            return self.index[label]

        add_text_item(datasets, ["id", self.label_column], "label_id", label_id)
        return ["label_id"]
