"""Training stages: the frozen network never changes, the trained one does."""

import os
import types

import pytest
import speechbrain as sb
import torch

from helpers import KWS_HPARAMS as HPARAMS, make_toy_corpus
from iaug.brains import GeneratorBrain, RecognizerBrain
from iaug.checkpoints import load_state
from iaug.recipe import load, train_and_test

TINY = os.path.join(HPARAMS, "presets", "tiny.yaml")


def train(brain_class, yaml_name, corpus, exp, system, *extra, out=None):
    """Train `system` reading the earlier stages from `exp`; its folder is in
    `out` (default: `exp`)."""
    argv = [os.path.join(HPARAMS, yaml_name), "--preset", TINY, "--data_dir", corpus,
            "--exp_dir", exp, "--output_folder", os.path.join(out or exp, system),
            "--number_of_epochs", "2", *extra]
    brain, summary = train_and_test(brain_class, argv)
    return brain, summary


def same(state, module):
    return all(torch.equal(state[k], v) for k, v in module.state_dict().items())


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """A baseline, then a generator trained on it (the recognizer's and the
    generator's modes seen in each of its training batches: `seen`), on the
    toy corpus; the later tests train their arms over them, in their own folders."""
    where = tmp_path_factory.mktemp("stages")
    corpus, exp = make_toy_corpus(str(where / "toy")), str(where / "exp")
    train(RecognizerBrain, "baseline.yaml", corpus, exp, "baseline")
    seen = []
    forward = GeneratorBrain.compute_forward

    def looking(self, batch, stage):
        if stage == sb.Stage.TRAIN:
            seen.append((self.modules.recognizer.training, self.modules.generator.training))
        return forward(self, batch, stage)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GeneratorBrain, "compute_forward", looking)
        brain, summary = train(GeneratorBrain, "generator.yaml", corpus, exp, "generator")
    return types.SimpleNamespace(corpus=corpus, exp=exp, generator=brain, summary=summary, seen=seen)


def test_generator_stage_keeps_recognizer_frozen(stages):
    toy_corpus, exp, seen = stages.corpus, stages.exp, stages.seen
    baseline, _ = load_state(os.path.join(exp, "baseline"), "recognizer")
    brain, summary = stages.generator, stages.summary
    assert seen and all(mode == (False, True) for mode in seen)
    assert same(baseline, brain.modules.recognizer)
    assert not any(p.requires_grad for p in brain.modules.recognizer.parameters())
    assert not brain.modules.recognizer.training
    # the generator did learn: its best checkpoint differs from its (seeded) init
    trained, _ = load_state(os.path.join(exp, "generator"), "generator")
    init = load(os.path.join(HPARAMS, "generator.yaml"),
                {"data_dir": toy_corpus, "exp_dir": exp})["generator"]
    assert not same(trained, init)
    assert 0 < summary["best_dev"]["mean_mask"] < 1


def test_augmentation_stage_keeps_generator_frozen(stages, tmp_path):
    exp = stages.exp
    generator, _ = load_state(os.path.join(exp, "generator"), "generator")
    baseline, _ = load_state(os.path.join(exp, "baseline"), "recognizer")
    for yaml_name in ("importantaug.yaml", "binarized.yaml"):
        brain, _ = train(RecognizerBrain, yaml_name, stages.corpus, exp, yaml_name[:-5], out=str(tmp_path))
        assert same(generator, brain.modules.generator)
        assert not any(p.requires_grad for p in brain.modules.generator.parameters())
        assert not same(baseline, brain.modules.recognizer)  # started there, then trained


def test_arms_start_from_the_baseline(stages, tmp_path, monkeypatch):
    exp = stages.exp
    baseline, _ = load_state(os.path.join(exp, "baseline"), "recognizer")
    # the weights as training would start from them
    monkeypatch.setattr(RecognizerBrain, "fit", lambda self, *a, **k: self.on_fit_start())
    monkeypatch.setattr(RecognizerBrain, "evaluate", lambda self, *a, **k: setattr(self, "test_stats", {}))
    brain, _ = train(RecognizerBrain, "noise.yaml", stages.corpus, exp, "noise", out=str(tmp_path))
    assert same(baseline, brain.modules.recognizer)
