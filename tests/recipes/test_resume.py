"""A training stage killed mid-epoch resumes from its last checkpoint."""

import os
import re
import signal
import subprocess
import sys
import time

import yaml

from helpers import KWS_BASELINE, ROOT


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
           KWS_BASELINE, "--data_dir", toy_corpus,
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
