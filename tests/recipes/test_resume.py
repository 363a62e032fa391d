"""A training stage killed mid-epoch resumes from its last checkpoint."""

import os
import re
import signal
import subprocess
import sys
import time

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HPARAMS = os.path.join(ROOT, "egs", "gsc_qut", "kws", "hparams")


def checkpoints(save_dir):
    found = []
    for name in sorted(os.listdir(save_dir)) if os.path.isdir(save_dir) else []:
        meta = os.path.join(save_dir, name, "CKPT.yaml")
        if os.path.isfile(meta):
            with open(meta) as f:
                content = yaml.safe_load(f)
            if content:  # None while the file is being written
                found.append((name, content))
    return found


def logged_epochs(train_log):
    with open(train_log) as f:
        return [int(m.group(1)) for m in re.finditer(r"^epoch: (\d+),", f.read(), re.M)]


def test_kill_mid_epoch_then_resume(toy_corpus, tmp_path):
    out = str(tmp_path / "exp" / "baseline")
    cmd = [sys.executable, os.path.join(ROOT, "recipes", "train_recognizer.py"),
           os.path.join(HPARAMS, "baseline.yaml"), "--data_dir", toy_corpus,
           "--output_folder", out, "--number_of_epochs", "12", "--batch_size", "2",
           "--num_workers", "0", "--ckpt_interval_steps", "3"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    save = os.path.join(out, "save")
    deadline = time.time() + 240
    resumed_epoch = None
    try:
        while time.time() < deadline and proc.poll() is None:
            ckpts = checkpoints(save)
            if ckpts:
                name, meta = max(ckpts, key=lambda c: c[1]["unixtime"])
                counter = os.path.join(save, name, "counter.ckpt")
                if not meta.get("end-of-epoch") and os.path.isfile(counter):
                    with open(counter) as f:
                        state = yaml.safe_load(f) or 0
                    epoch = state.get("current_epoch", 0) if isinstance(state, dict) else state
                    if epoch >= 3:  # mid-epoch, with two whole epochs behind it
                        resumed_epoch = epoch
                        break
            time.sleep(0.02)
        assert proc.poll() is None, "training ended before it could be killed; make it longer"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert resumed_epoch is not None
    latest = max(checkpoints(save), key=lambda c: c[1]["unixtime"])
    assert not latest[1].get("end-of-epoch"), "the newest checkpoint should be intra-epoch"

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"Loading a checkpoint from {os.path.join(save, latest[0])}" in rerun.stdout + rerun.stderr
    # epochs finished before the kill are not trained again; all 12 are done
    epochs = logged_epochs(os.path.join(out, "train_log.txt"))
    assert sorted(set(epochs)) == list(range(1, 13))
    for epoch in range(1, resumed_epoch):
        assert epochs.count(epoch) == 1, f"epoch {epoch} was trained again: {epochs}"


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

    egs = os.path.join(ROOT, "egs")
    for hparams_file, overrides in (
            (os.path.join(egs, "librispeech", "asr", "hparams", "baseline.yaml"),
             {"data_dir": str(tmp_path), "tokenizer": None}),
            (os.path.join(egs, "gsc_qut", "digits", "hparams", "baseline.yaml"),
             {"manifest_dir": str(tmp_path)}),
            (os.path.join(HPARAMS, "baseline.yaml"), {"data_dir": str(tmp_path)})):
        save = str(tmp_path / os.path.basename(os.path.dirname(os.path.dirname(hparams_file))))
        overrides = {**overrides, "number_of_epochs": 10, "patience": 3}
        counter = load(hparams_file, overrides)["epoch_counter"]
        for dev_loss, _ in zip([0.9, 0.5, 0.7], counter):  # epochs 1-3
            counter.update_metric(dev_loss)
        Checkpointer(save, {"counter": counter}).save_checkpoint()
        resumed = load(hparams_file, overrides)["epoch_counter"]
        Checkpointer(save, {"counter": resumed}).recover_if_possible()
        assert (resumed.current, resumed.best_limit, resumed.best_score) == (3, 2, 0.5), hparams_file
