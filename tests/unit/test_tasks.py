"""Both tasks fulfil one contract: the same Brain trains a step and scores a
set through them, and the same code turns their predictions into
per-utterance decisions."""

import numpy as np
import pytest
import soundfile as sf
import speechbrain as sb
import torch

from asr_helpers import CharTokenizer
from iaug.brains import RecognizerBrain
from iaug.dataio import audio_dataset
from iaug.models import STFT, CTCRecognizer, Recognizer
from iaug.tasks import DECISION_FIELDS, CTCRecognition, KeywordSpotting, Task


def corpus(tmp_path, column, targets):
    rng = np.random.default_rng(0)
    manifest = {}
    for i, target in enumerate(targets):
        path = str(tmp_path / f"u{i}.wav")
        sf.write(path, (0.1 * rng.standard_normal(8000 + 2000 * i)).astype("float32"), 16000)
        manifest[f"u{i}"] = {"wav": path, column: target}
    return manifest


TASKS = {
    "kws": lambda: (KeywordSpotting(["yes", "no"]),
                    Recognizer(num_classes=2), STFT(), "label", ["yes", "no", "no"]),
    "ctc": lambda: (CTCRecognition(CharTokenizer()),
                    CTCRecognizer(CharTokenizer.vocab_size, n_mels=20, cnn_channels=4, proj_dim=16,
                                  rnn_layers=1, rnn_neurons=16, dnn_neurons=16),
                    STFT(512, 160), "wrd", ["GO HOME", "RED", "SET A TIMER"]),
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_contract(name, tmp_path):
    torch.manual_seed(0)
    task, recognizer, stft, column, targets = TASKS[name]()
    assert isinstance(task, Task)
    data = audio_dataset(corpus(tmp_path, column, targets), task)
    brain = RecognizerBrain(
        modules={"stft": stft, "recognizer": recognizer}, opt_class=torch.optim.Adam,
        hparams={"task": task, "lr_scheduler": lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1),
                 "epoch_counter": sb.utils.epoch_loop.EpochCounter(1),
                 "train_logger": sb.utils.train_logger.FileTrainLogger(str(tmp_path / "log.txt"))},
        run_opts={"device": "cpu", "noprogressbar": True})
    # a training step: finite loss, the recognizer moves
    brain.init_optimizers()
    batch = next(iter(sb.dataio.dataloader.make_dataloader(data, batch_size=3)))
    before = [p.clone() for p in recognizer.parameters()]
    loss = brain.fit_batch(batch)
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, recognizer.parameters()))
    # scoring: one decision per utterance, consistent with the error rate
    brain.evaluate(data, progressbar=False, test_loader_kwargs={"batch_size": 2})
    stats = brain.stats["error"]
    rows = task.decisions(stats)
    assert [r["ID"] for r in rows] == ["u0", "u1", "u2"] and all(set(r) == set(DECISION_FIELDS)
                                                                   for r in rows)
    assert [r["reference"] for r in rows] == targets
    rate = 100.0 * sum(r["errors"] for r in rows) / sum(r["ref_tokens"] for r in rows)
    assert rate == pytest.approx(float(stats.summarize("error_rate")))


def test_greedy_ctc_decoding_is_speechbrains_with_one_copy_per_batch():
    from speechbrain.decoders.ctc import ctc_greedy_decode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.append(str(func))
            return func(*args, **(kwargs or {}))

    task = CTCRecognition(CharTokenizer())
    gen = torch.Generator().manual_seed(0)
    counts = []
    for batch in (2, 9):
        log_probs = torch.randn(batch, 40, CharTokenizer.vocab_size, generator=gen).log_softmax(-1)
        log_probs[:, :, 0] += 1.0  # blanks between tokens
        out_lens = torch.randint(1, 41, (batch,), generator=gen)
        expected = [task.sp.decode_ids(seq).split() for seq in ctc_greedy_decode(
            log_probs, out_lens.float() / 40, blank_id=0)]
        with Ops() as seen:
            assert task.hypotheses((log_probs, out_lens)) == expected
        counts.append(len(seen.ops))
    assert counts[0] == counts[1]  # the same tensor work for 2 utterances as for 9
