#!/usr/bin/env python3
"""Spoken digits with an x-vector classifier; ImportantAug in the training step.

The Brain is iaug's RecognizerBrain (paper's schedule, best checkpoint by dev
loss, error rates); only the forward pass differs: waveforms go through the
hparams' ``augment`` (ImportantAug, or null for the baseline) in training,
then SpeechBrain's fbank + x-vector classifier.

    python train.py hparams/train.yaml --manifest_dir exp/manifests \
        --noise_csv DATA/manifests/noise_train.csv --generator GEN [--preset P.yaml]
"""

import speechbrain as sb

from iaug.brains import RecognizerBrain
from iaug.inference import wav_log_probs
from iaug.recipe import train_and_test


class DigitBrain(RecognizerBrain):
    def compute_forward(self, batch, stage):
        batch = batch.to(self.device)
        wavs, lens = batch.sig
        if stage == sb.Stage.TRAIN and self.hparams.augment is not None:
            wavs = self.hparams.augment(wavs, lens)
        # the same function ImportantAugClassifier runs on an exported model
        return wav_log_probs(self.modules, wavs, lens)


if __name__ == "__main__":
    train_and_test(DigitBrain)
