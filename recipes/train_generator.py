#!/usr/bin/env python3
"""Train the importance-map generator against a frozen recognizer (stage A).

The generator adds as much noise as it can while the frozen recognizer still
gets the label right; its loss weights live in the hparams. The recognizer's
weights come from ``init_recognizer`` (by default ``<exp_dir>/baseline``; an
experiment folder, a .ckpt or the authors' .pt):

    python recipes/train_generator.py egs/gsc_qut/kws/hparams/generator.yaml \
        --data_dir data --output_folder exp/generator --init_recognizer exp/baseline
"""

from iaug.brains import GeneratorBrain
from iaug.recipe import train_and_test

if __name__ == "__main__":
    train_and_test(GeneratorBrain)
