"""Dev and test sets are scored in shares under torchrun: two gloo ranks give
the scores, decisions and generator statistics of one process. A torchrun of
two training processes: end to end, so in this tier."""

import os
import subprocess
import sys

import numpy as np
import pytest
import speechbrain as sb
import torch

from iaug.tasks import KeywordSpotting


def scoring_corpus(folder):
    """{split: manifest}: clips of different lengths (padded batches), labels yes/no."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    sizes = {"train": 4, "dev": 7, "test": 2}  # dev: 4 batches of 2; test: 1, not one a rank
    manifests = {}
    for split, count in sizes.items():
        manifests[split] = {}
        for i in range(count):
            path = os.path.join(folder, f"{split}{i}.wav")
            if not os.path.isfile(path):
                sf.write(path, (0.1 * rng.standard_normal(6000 + 1500 * i)).astype("float32"), 16000)
            manifests[split][f"{split}{i}"] = {"wav": path, "label": ["yes", "no"][i % 2]}
    return manifests


class RecordingMixin:
    """Records the utterances each stage's forward saw and each stage's stats."""

    def on_stage_start(self, stage, epoch=None):
        super().on_stage_start(stage, epoch)
        self.stage = stage.name
        self.seen.setdefault(stage.name, [])

    def compute_forward(self, batch, stage):
        if stage != sb.Stage.TRAIN:
            self.seen[stage.name] += batch.id
        return super().compute_forward(batch, stage)

    def summarize(self, stage_loss):
        stats = super().summarize(stage_loss)
        if self.stats:  # dev or test
            self.scored.append((self.stage, stats, KeywordSpotting.decisions(self.stats["error"])))
        return stats


def scoring_brains(folder, recognizer_state=None):
    """A recognizer brain and a generator-stage brain, seeded alike in every process."""
    from iaug.brains import GeneratorBrain, RecognizerBrain
    from iaug.mixing import NoiseBank, NoiseMixer
    from iaug.models import STFT, MaskGenerator, Recognizer
    from iaug.policies import LearnedMask

    torch.manual_seed(0)
    task = KeywordSpotting(["yes", "no"])
    recognizer, generator = Recognizer(num_classes=2), MaskGenerator()
    if recognizer_state is not None:
        recognizer.load_state_dict(recognizer_state)
    common = {"task": task, "seed": 0,
              "lr_scheduler": lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1),
              "epoch_counter": sb.utils.epoch_loop.EpochCounterWithStopper(1, 2, 0, "min"),
              "train_logger": sb.utils.train_logger.FileTrainLogger(os.path.join(folder, "log.txt"))}
    run_opts = {"device": "cpu", "noprogressbar": True, "distributed_backend": "gloo"}

    class Recognizing(RecordingMixin, RecognizerBrain):
        pass

    class Generating(RecordingMixin, GeneratorBrain):
        pass

    brains = []
    for cls, modules, extra in (
            (Recognizing, {"stft": STFT(), "recognizer": recognizer}, {}),
            (Generating, {"stft": STFT(), "recognizer": Recognizer(num_classes=2), "generator": generator},
             {"frozen": ["recognizer"], "loss_weights": {},
              "noise_mixer": NoiseMixer(NoiseBank(0.1 * torch.randn(3, 16000)), [-5.0, 5.0],
                                        LearnedMask(generator))})):
        brain = cls(modules=modules, opt_class=torch.optim.Adam, hparams={**common, **extra},
                    run_opts=run_opts, checkpointer=sb.utils.checkpoints.Checkpointer(
                        os.path.join(folder, f"save_{cls.__name__}"), {"recognizer": modules["recognizer"]}))
        brain.seen, brain.scored = {}, []
        brains.append(brain)
    return brains


def score_all(folder, train=False):
    """Scores of the dev and test sets: in a fitted epoch (``train``) and alone."""
    from iaug.dataio import audio_dataset

    torch.manual_seed(0)
    brains = scoring_brains(folder, torch.load(os.path.join(folder, "trained.pt")) if not train else None)
    recognizing, generating = brains
    task = recognizing.hparams.task
    data = {k: audio_dataset(m, task) for k, m in scoring_corpus(folder).items()}
    opts = {"batch_size": 2}
    if train:
        recognizing.fit(recognizing.hparams.epoch_counter, data["train"], data["dev"],
                        train_loader_kwargs=opts, valid_loader_kwargs=opts)
    else:
        recognizing.evaluate(data["dev"], test_loader_kwargs=dict(opts))
    recognizing.evaluate(data["test"], test_loader_kwargs=dict(opts))
    generating.on_fit_start()  # under torchrun: the generator wrapped by DDP
    generating.evaluate(data["dev"], test_loader_kwargs=dict(opts))
    bare = getattr(recognizing.modules.recognizer, "module", recognizing.modules.recognizer)
    return {"recognizer": bare.state_dict(), "scored": recognizing.scored + generating.scored,
            "seen": [recognizing.seen, generating.seen]}


@pytest.mark.slow
def test_dev_and_test_scores_under_torchrun_are_those_of_one_process(tmp_path):
    folder = str(tmp_path)
    scoring_corpus(folder)
    proc = subprocess.run(["torchrun", "--standalone", "--nproc_per_node", "2", __file__, folder],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [torch.load(os.path.join(folder, f"rank{r}.pt")) for r in (0, 1)]
    torch.save(ranks[0]["recognizer"], os.path.join(folder, "trained.pt"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank: float sums in the same order
    try:
        alone = score_all(folder)
    finally:
        torch.set_num_threads(threads)
    # the fitted epoch's dev scores are the dev set's scores of its weights, alone
    valid, test, generated = ranks[0]["scored"]
    assert valid[0] == "VALID" and [s[1:] for s in alone["scored"]] == [valid[1:], test[1:], generated[1:]]
    assert ranks[1]["scored"] == ranks[0]["scored"]
    assert {"mean_mask", "mask_speech", "mask_other"} <= set(generated[1])
    # each rank scored its share: dev batches 0 and 2, 1 and 3; the one test batch on rank 0
    dev = [f"dev{i}" for i in range(7)]
    for r, expected in ((0, dev[0:2] + dev[4:6]), (1, dev[2:4] + dev[6:])):
        recognizing, generating = ranks[r]["seen"]
        assert recognizing["VALID"] == expected and generating["TEST"] == expected
        assert recognizing["TEST"] == (["test0", "test1"] if r == 0 else [])


if __name__ == "__main__":  # one torchrun rank of the test above
    torch.distributed.init_process_group("gloo")
    out = score_all(sys.argv[1], train=True)
    torch.save(out, os.path.join(sys.argv[1], f"rank{torch.distributed.get_rank()}.pt"))
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
