#!/usr/bin/env python3
"""Train a recognizer under an augmentation policy (stages B of ImportantAug).

The baseline (no noise), conventional noise, ImportantAug, Null and
Binarized ImportantAug are the same script with different hparams: the
``noise_mixer`` and its mask policy decide where the noise goes.

    python recipes/train_recognizer.py egs/gsc_qut/kws/hparams/importantaug.yaml \
        --data_dir data --output_folder exp/importantaug
"""

from iaug.brains import RecognizerBrain
from iaug.recipe import train_and_test

if __name__ == "__main__":
    train_and_test(RecognizerBrain)
