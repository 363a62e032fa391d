"""ASR: the generator brain (the same class as for keyword spotting) trains
against a frozen CTC recognizer; its steps lower its loss on a fixed batch."""


import numpy as np
import speechbrain as sb
import torch

from iaug.brains import GeneratorBrain, RecognizerBrain
from iaug.tasks import CTCRecognition
from iaug.models import CTCRecognizer
from iaug.models import STFT
from iaug.mixing import NoiseBank, NoiseMixer
from iaug.models import MaskGenerator
from iaug.policies import LearnedMask
from speechbrain.dataio.batch import PaddedBatch

from asr_helpers import CharTokenizer


def fixed_batch(tokenizer):
    """Two 'utterances' of different lengths: chirps with a noise floor."""
    rng = np.random.default_rng(0)
    items = []
    for i, (seconds, text) in enumerate(((1.3, "red box"), (0.8, "go"))):
        t = np.arange(int(16000 * seconds)) / 16000
        wav = 0.3 * np.sin(2 * np.pi * (300 + 400 * t) * t) + 3e-4 * rng.standard_normal(len(t))
        items.append({"id": f"u{i}", "sig": torch.tensor(wav, dtype=torch.float32), "wrd": text.upper(),
                      "tokens": torch.LongTensor(tokenizer.encode_as_ids(text))})
    return PaddedBatch(items)


def make_brain(brain_class, tmp_path, **extra):
    torch.manual_seed(0)
    tokenizer = CharTokenizer()
    recognizer = CTCRecognizer(num_tokens=tokenizer.vocab_size, n_mels=20, cnn_channels=4,
                               proj_dim=16, rnn_layers=1, rnn_neurons=16, dnn_neurons=16)
    generator = MaskGenerator(mask_padding=True)
    bank = NoiseBank(torch.randn(4, 24000) * 0.1)
    hparams = {
        "task": CTCRecognition(tokenizer), "seed": 3,
        "lr_scheduler": lambda opt: torch.optim.lr_scheduler.StepLR(opt, 10),
        "loss_weights": {"w_task": 1.0, "w_mask": 3.0, "w_freq": 3.0, "w_time": 3.0},
        "noise_mixer": NoiseMixer(bank, -12.5, LearnedMask(generator)),
        "frozen": ["recognizer"], **extra,
    }
    brain = brain_class(
        modules={"stft": STFT(512, 160), "recognizer": recognizer, "generator": generator},
        opt_class=lambda params: torch.optim.Adam(params, lr=1e-2),
        hparams=hparams, run_opts={"device": "cpu", "noprogressbar": True})
    brain.on_fit_start()
    return brain, tokenizer


def test_generator_steps_lower_its_loss_on_a_fixed_batch(tmp_path):
    brain, tokenizer = make_brain(GeneratorBrain, tmp_path)
    batch = fixed_batch(tokenizer)
    recognizer_before = [p.clone() for p in brain.modules.recognizer.parameters()]

    def dev_loss():
        brain.on_stage_start(sb.Stage.VALID)  # re-seeds the dev noise draw
        return float(brain.evaluate_batch(batch, sb.Stage.VALID))

    before = dev_loss()
    brain.on_stage_start(sb.Stage.TRAIN)
    for _ in range(3):
        brain.fit_batch(batch)
    after = dev_loss()
    assert np.isfinite(before) and after < before
    # only the generator learned
    for p, q in zip(recognizer_before, brain.modules.recognizer.parameters()):
        assert torch.equal(p, q)
    assert "mean_mask" in brain.extra and 0 < brain.extra["mean_mask"][-1] < 1


def test_recognizer_brain_trains_ctc_and_scores_wer(tmp_path):
    brain, tokenizer = make_brain(RecognizerBrain, tmp_path, frozen=["generator"])
    batch = fixed_batch(tokenizer)
    brain.on_stage_start(sb.Stage.TRAIN)
    losses = [float(brain.fit_batch(batch)) for _ in range(3)]
    assert all(np.isfinite(losses))
    brain.on_stage_start(sb.Stage.TEST)
    brain.evaluate_batch(batch, sb.Stage.TEST)
    stats = brain.stats["error"]
    assert len(stats.scores) == 2 and 0 <= stats.summarize("error_rate")
