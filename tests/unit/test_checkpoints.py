"""What a resumed training reads back: the early-stopping state of every
recipe's counter, and the newest whole checkpoint (the kill and the rerun
themselves: tests/recipes/test_resume.py)."""

import os

from helpers import EGS, KWS_BASELINE


def test_early_stopping_state_survives_a_resume(tmp_path):
    from speechbrain.utils.checkpoints import Checkpointer

    from iaug.checkpoints import EpochCounterWithStopper

    counter = EpochCounterWithStopper(limit=10, limit_to_stop=3, limit_warmup=0, direction="min")
    for epoch, dev_loss in zip(counter, [0.9, 0.5, 0.7]):
        counter.update_metric(dev_loss)
        if epoch == 3:
            break
    Checkpointer(str(tmp_path), {"counter": counter}).save_checkpoint()
    resumed = EpochCounterWithStopper(limit=10, limit_to_stop=3, limit_warmup=0, direction="min")
    Checkpointer(str(tmp_path), {"counter": resumed}).recover_if_possible()
    assert (resumed.current, resumed.best_limit, resumed.best_score) == (3, 2, 0.5)
    next(resumed)
    resumed.update_metric(0.8)  # epoch 4: two epochs without improvement
    next(resumed)
    resumed.update_metric(0.8)  # epoch 5: three -> patience exhausted
    assert resumed.should_stop

    # A run that stopped early continues when rerun with more patience, and
    # stops again at once when rerun with the same patience.
    Checkpointer(str(tmp_path / "stopped"), {"counter": resumed}).save_checkpoint()
    for patience, stops in ((3, True), (5, False)):
        rerun = EpochCounterWithStopper(limit=10, limit_to_stop=patience, limit_warmup=0, direction="min")
        Checkpointer(str(tmp_path / "stopped"), {"counter": rerun}).recover_if_possible()
        assert rerun.should_stop is stops
        assert list(rerun) == ([] if stops else [6, 7, 8, 9, 10])


def test_counter_reads_plain_epoch_counter_files(tmp_path):
    from iaug.checkpoints import EpochCounterWithStopper

    path = tmp_path / "counter.ckpt"
    path.write_text("4")  # written by speechbrain's EpochCounter
    counter = EpochCounterWithStopper(limit=10, limit_to_stop=3, limit_warmup=0, direction="min")
    counter._recover(str(path), end_of_epoch=True)
    assert counter.current == 4
    counter._recover(str(path), end_of_epoch=False)
    assert counter.current == 3


def test_checkpoint_cut_short_is_skipped(tmp_path):
    import torch

    from iaug.checkpoints import Checkpointer

    model = torch.nn.Linear(3, 2)
    ckpter = Checkpointer(str(tmp_path), {"model": model})
    with torch.no_grad():
        model.weight.fill_(1.0)
    good = ckpter.save_checkpoint()
    with torch.no_grad():
        model.weight.fill_(2.0)
    cut = ckpter.save_checkpoint()
    data = (cut.path / "model.ckpt").read_bytes()
    (cut.path / "model.ckpt").write_bytes(data[: len(data) // 3])  # killed while writing

    fresh = torch.nn.Linear(3, 2)
    chosen = Checkpointer(str(tmp_path), {"model": fresh}).recover_if_possible()
    assert chosen.path == good.path
    assert torch.all(fresh.weight == 1.0)
    assert not cut.path.exists() and (tmp_path / ("BROKEN+" + cut.path.name)).exists()


def test_every_recipe_resumes_with_its_early_stopping_state(tmp_path):
    """The recipes' own counter (from their yaml) keeps the best dev loss
    across a resume: SpeechBrain 1.1.2's forgets it."""
    from speechbrain.utils.checkpoints import Checkpointer

    from iaug.recipe import load

    for hparams_file, overrides in (
            (os.path.join(EGS, "librispeech", "asr", "hparams", "baseline.yaml"),
             {"data_dir": str(tmp_path), "tokenizer": None}),
            (os.path.join(EGS, "gsc_qut", "digits", "hparams", "baseline.yaml"),
             {"manifest_dir": str(tmp_path)}),
            (KWS_BASELINE, {"data_dir": str(tmp_path)})):
        save = str(tmp_path / os.path.basename(os.path.dirname(os.path.dirname(hparams_file))))
        overrides = {**overrides, "number_of_epochs": 10, "patience": 3}
        counter = load(hparams_file, overrides)["epoch_counter"]
        for dev_loss, _ in zip([0.9, 0.5, 0.7], counter):  # epochs 1-3
            counter.update_metric(dev_loss)
        Checkpointer(save, {"counter": counter}).save_checkpoint()
        resumed = load(hparams_file, overrides)["epoch_counter"]
        Checkpointer(save, {"counter": resumed}).recover_if_possible()
        assert (resumed.current, resumed.best_limit, resumed.best_score) == (3, 2, 0.5), hparams_file
