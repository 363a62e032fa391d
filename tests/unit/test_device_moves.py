"""How batches reach the brain's device: pinned host memory and copies that
do not wait on a GPU, SpeechBrain's speed perturbation on the batch's device."""

import numpy as np
import soundfile as sf
import speechbrain as sb
import torch
from speechbrain.augment.augmenter import Augmenter
from speechbrain.augment.time_domain import DropChunk, SpeedPerturb

from iaug.brains import RecognizerBrain, place_speed_perturb
from iaug.dataio import audio_dataset
from iaug.models import STFT, Recognizer
from iaug.tasks import KeywordSpotting


def brain_and_data(tmp_path, **hparams):
    rng = np.random.default_rng(0)
    manifest = {}
    for i in range(3):
        path = str(tmp_path / f"u{i}.wav")
        sf.write(path, (0.1 * rng.standard_normal(8000)).astype("float32"), 16000)
        manifest[f"u{i}"] = {"wav": path, "label": "yes"}
    task = KeywordSpotting(["yes", "no"])
    brain = RecognizerBrain(modules={"stft": STFT(), "recognizer": Recognizer(num_classes=2)},
                            hparams={"task": task, **hparams},
                            run_opts={"device": "cpu", "noprogressbar": True})
    return brain, audio_dataset(manifest, task)


def test_loaders_pin_host_memory_for_a_gpu_only(tmp_path):
    brain, data = brain_and_data(tmp_path)
    for stage in (sb.Stage.TRAIN, sb.Stage.VALID, sb.Stage.TEST):
        assert not brain.make_dataloader(data, stage, batch_size=2).pin_memory
    brain.device = "cuda:0"  # as a brain on a GPU (none needed to build a loader)
    for stage in (sb.Stage.TRAIN, sb.Stage.VALID, sb.Stage.TEST):
        assert brain.make_dataloader(data, stage, batch_size=2).pin_memory
    assert not brain.make_dataloader(data, sb.Stage.TEST, batch_size=2, pin_memory=False).pin_memory


def test_a_batch_is_copied_to_the_device_without_waiting(tmp_path, monkeypatch):
    brain, data = brain_and_data(tmp_path)
    moves = []
    move = sb.dataio.batch.PaddedBatch.to

    def recording(self, *args, **kwargs):
        moves.append(kwargs)
        return move(self, *args, **kwargs)

    monkeypatch.setattr(sb.dataio.batch.PaddedBatch, "to", recording)
    brain.on_stage_start(sb.Stage.TEST)
    brain.compute_forward(next(iter(brain.make_dataloader(data, sb.Stage.TEST, batch_size=2))),
                          sb.Stage.TEST)
    assert moves == [{"non_blocking": True}]


def test_speed_perturbation_resamples_on_the_brains_device(tmp_path):
    # SpeechBrain's SpeedPerturb resamples on its own device argument; built
    # for another one (the CPU by default, here "meta"), it follows the brain's
    speed = SpeedPerturb(orig_freq=16000, device="meta")
    augment = Augmenter(augmentations=[speed, DropChunk()], min_augmentations=1, max_augmentations=2)
    brain, _ = brain_and_data(tmp_path, wav_augment=augment, seed=0,
                              lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1))
    brain.opt_class = torch.optim.Adam
    brain.on_fit_start()
    assert speed.device == "cpu"
    alone = SpeedPerturb(orig_freq=16000)
    place_speed_perturb(alone, "meta")
    assert alone(torch.zeros(2, 1600, device="meta")).device.type == "meta"
