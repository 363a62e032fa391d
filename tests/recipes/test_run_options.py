"""Every recipe's run.sh refuses a bad option or a stage whose inputs are
missing with one line, before any work and without leaving folders behind."""

import os
import subprocess

import pytest

from helpers import KWS_BASELINE, RECIPES, ROOT, make_toy_corpus

LAST = {"kws": 9, "asr": 7, "digits": 5}


def fails(script, *args):
    proc = subprocess.run(["bash", script, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    return proc.stderr


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_bad_stage_numbers(recipe, tmp_path):
    exp = str(tmp_path / "exp")
    for args in (["--stage", "99"], ["--stage", "abc"], ["--stop_stage", "x1"],
                 ["--stage", "3", "--stop_stage", "2"]):
        message = fails(RECIPES[recipe], *args, "--exp_dir", exp)
        assert "--stage" in message or "--stop_stage" in message
    assert f"from 0 to {LAST[recipe]}" in fails(RECIPES[recipe], "--stage", "99", "--exp_dir", exp)
    assert not os.path.exists(exp)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_bad_folders_and_threads(recipe, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert "is a file" in fails(RECIPES[recipe], "--exp_dir", str(a_file))
    assert "cannot write to" in fails(RECIPES[recipe], "--exp_dir", str(a_file / "below"))
    assert "--nthreads" in fails(RECIPES[recipe], "--nthreads", "0", "--exp_dir", str(tmp_path / "e"))


@pytest.mark.parametrize("recipe", ["kws", "asr"])
def test_unknown_corpus_leaves_nothing(recipe, tmp_path):
    exp = tmp_path / "exp"
    assert "--corpus is" in fails(RECIPES[recipe], "--corpus", "wrong", "--exp_dir", str(exp))
    assert not exp.exists()


@pytest.mark.parametrize("recipe,stage,needs", [("kws", 5, "stage 2"), ("kws", 7, "stage 2"),
                                                ("asr", 4, "stage 2"), ("digits", 4, "stage 2")])
def test_stage_before_its_inputs_names_the_stage_to_run(recipe, stage, needs, tmp_path):
    exp = str(tmp_path / "exp")
    extra = ["--generator", str(tmp_path)] if recipe == "digits" else []
    message = fails(RECIPES[recipe], "--stage", str(stage), "--stop_stage", str(stage),
                    "--exp_dir", exp, *extra)
    assert f"run {needs} first" in message


@pytest.mark.parametrize("recipe", ["kws", "asr"])
def test_evaluation_with_nothing_trained(recipe, tmp_path):
    message = fails(RECIPES[recipe], "--stage", str(LAST[recipe]), "--exp_dir", str(tmp_path / "e"))
    assert "nothing trained" in message
    # a system killed in its first epoch (or still training) is not a trained one
    os.makedirs(tmp_path / "e" / "baseline")
    (tmp_path / "e" / "baseline" / "hyperparams.yaml").write_text("seed: 1\n")
    proc = subprocess.run(["bash", RECIPES[recipe], "--stage", str(LAST[recipe]),
                           "--exp_dir", str(tmp_path / "e")], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "nothing trained" in proc.stderr
    assert "not scored, training unfinished: baseline" in proc.stdout


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_bad_or_missing_device_is_one_line_before_any_folder(recipe, tmp_path):
    exp = tmp_path / "exp"
    for device in ("cuda:0:1", "gpu", "cuda:x"):
        assert "--device is cpu, cuda or cuda:N" in fails(RECIPES[recipe], "--device", device,
                                                          "--exp_dir", str(exp))
    # a GPU this machine does not have; also in the evaluation stage
    import torch

    missing = f"cuda:{torch.cuda.device_count()}"
    bare = ["--device", "cuda"] if torch.cuda.device_count() == 0 else ["--device", missing]
    for args in (bare, ["--device", missing, "--stage", str(LAST[recipe])]):
        assert "torch sees no such GPU" in fails(RECIPES[recipe], *args, "--exp_dir", str(exp))
    assert not exp.exists()


def test_threads_default_to_the_cores_a_process_may_use(tmp_path):
    # a stage that fails at once (nothing trained) still says its thread count
    proc = subprocess.run(["bash", RECIPES["kws"], "--stage", "9", "--exp_dir", str(tmp_path / "e")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "7"})
    cores = len(os.sched_getaffinity(0))  # and as many systems at a time
    assert f"torch threads per process: {cores} " in proc.stdout
    assert f"up to {cores} system(s) at a time (--jobs)" in proc.stdout
    proc = subprocess.run(["bash", RECIPES["kws"], "--stage", "9", "--nthreads", "3",
                           "--exp_dir", str(tmp_path / "e")], capture_output=True, text=True, timeout=120)
    assert "torch threads per process: 3 " in proc.stdout


def test_a_system_started_from_a_retrained_baseline_is_never_taken_as_done(kws_tiny, tmp_path):
    import shutil

    exp = str(tmp_path / "exp")
    for system in ("baseline", "null_importantaug"):  # stages 2 and 6 of the shared experiment
        shutil.copytree(os.path.join(kws_tiny.exp, system), os.path.join(exp, system))
    common = ["bash", RECIPES["kws"], "--data_dir", kws_tiny.data, "--exp_dir", exp, "--preset", "tiny",
              "--nthreads", "1"]

    def run(*args):
        return subprocess.run([*common, *args], capture_output=True, text=True, timeout=600)

    again = run("--stage", "6", "--stop_stage", "6")
    assert again.returncode == 0 and "null_importantaug: done, skipping" in again.stdout
    # another seed: the finished system is not what the command asks for
    other = run("--stage", "6", "--stop_stage", "6", "--seed", "7")
    assert other.returncode != 0 and "null_importantaug was trained with other settings" in other.stderr
    shutil.rmtree(os.path.join(exp, "baseline"))  # the baseline retrained
    assert run("--stage", "2", "--stop_stage", "2").returncode == 0
    for stages in (["--stage", "6", "--stop_stage", "6"], ["--stage", "9"]):
        proc = run(*stages)
        assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "null_importantaug was trained from another baseline than " in proc.stderr


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_a_second_run_on_one_experiment_folder_is_one_line(recipe, tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / ".iaug_lock.pid").write_text("4242\n")
    holder = subprocess.Popen(["flock", "-o", str(exp / ".iaug_lock"), "sleep", "30"])
    import time
    for _ in range(100):  # until the other run holds the lock
        if subprocess.run(["flock", "-n", str(exp / ".iaug_lock"), "true"]).returncode:
            break
        time.sleep(0.05)
    try:
        message = fails(RECIPES[recipe], "--stage", str(LAST[recipe]), "--exp_dir", str(exp))
        assert f"another run (pid 4242) is using {exp}" in message
    finally:
        holder.kill()
        holder.wait()
    # once it has ended, the folder is free again (the stage fails for its own reason)
    assert "another run" not in fails(RECIPES[recipe], "--stage", str(LAST[recipe]), "--exp_dir", str(exp))


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_bad_precision_is_one_line(recipe, tmp_path):
    exp = tmp_path / "exp"
    assert "--precision is fp32, bf16 or fp16" in fails(RECIPES[recipe], "--precision", "fp8",
                                                        "--exp_dir", str(exp))
    assert "--precision fp16 needs a GPU" in fails(RECIPES[recipe], "--precision", "fp16",
                                                   "--exp_dir", str(exp))
    assert not exp.exists()


def test_training_in_bf16_on_the_cpu(tmp_path):
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    proc = subprocess.run(["bash", RECIPES["kws"], "--stage", "2", "--stop_stage", "2", "--data_dir", corpus,
                           "--exp_dir", str(tmp_path / "exp"), "--preset", "tiny", "--precision", "bf16",
                           "--nthreads", "1"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Using training precision: `--precision=bf16`" in proc.stdout + proc.stderr
    log = open(tmp_path / "exp" / "baseline" / "train_log.txt").read()
    assert "epoch: 2" in log and "nan" not in log


def test_the_python_tools_check_the_device_in_one_line(tmp_path, capsys):
    import torch

    from iaug.cli.diagnose import main as diagnose_main
    from iaug.cli.evaluate import main as eval_main

    missing = f"cuda:{torch.cuda.device_count()}"
    for main, args in ((eval_main, ["--system", "baseline", "--manifest", "m.csv"]),
                       (diagnose_main, ["--recognizer", "r", "--manifest", __file__, "--noise_csv", __file__])):
        for device, message in (("gpu", "--device is cpu, cuda or cuda:N (got 'gpu')"),
                                (missing, f"--device {missing}: torch sees no such GPU")):
            assert main([*args, "--device", device]) == 1
            err = capsys.readouterr().err
            assert message in err and len(err.strip().splitlines()) == 1
    script = os.path.join(ROOT, "recipes", "train_recognizer.py")
    proc = subprocess.run(["python3", script, KWS_BASELINE, "--data_dir", str(tmp_path), "--device", missing],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and f"--device {missing}: torch sees no such GPU" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "exp").exists()


def test_a_sweep_side_by_side_trains_what_it_trains_one_after_another(kws_tiny, tmp_path):
    # the shared experiment ran with --jobs 2: stage 5's candidates side by
    # side, stage 3's one at a time beside the generator, each system with
    # its share of the threads
    import shutil

    import torch

    from iaug.checkpoints import load_state

    cores = len(os.sched_getaffinity(0))
    candidates = sorted(d for d in os.listdir(kws_tiny.exp) if d.startswith("noise_snr"))
    assert len(candidates) == 2
    assert "importantaug_snr-12.5 importantaug_snr15 side by side" in kws_tiny.log
    assert f"{candidates[0]} {candidates[1]} side by side" not in kws_tiny.log
    assert "scoring in 2 groups side by side" in kws_tiny.log
    exp = str(tmp_path / "exp")
    shutil.copytree(os.path.join(kws_tiny.exp, "baseline"), os.path.join(exp, "baseline"))
    threads = max(1, cores // 2)
    proc = subprocess.run(["bash", RECIPES["kws"], "--data_dir", kws_tiny.data, "--exp_dir", exp,
                           "--preset", "tiny", "--stage", "3", "--stop_stage", "3",
                           "--nthreads", str(threads), "--jobs", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "side by side" not in proc.stdout, proc.stderr[-2000:]
    for system in candidates:
        ours = load_state(os.path.join(exp, system), "recognizer")[0]
        theirs = load_state(os.path.join(kws_tiny.exp, system), "recognizer")[0]
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), system
    # one candidate killed and rerun: trained alone, with its group's share of
    # the threads, so again the same bytes; the finished one skipped in this log
    resumed = str(tmp_path / "resumed")
    shutil.copytree(kws_tiny.exp, resumed, symlinks=True)
    shutil.rmtree(os.path.join(resumed, candidates[1]))
    proc = subprocess.run(["bash", RECIPES["kws"], "--data_dir", kws_tiny.data, "--exp_dir", resumed,
                           "--preset", "tiny", "--stage", "3", "--stop_stage", "3"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and f"{candidates[0]}: done, skipping" in proc.stdout, proc.stderr[-2000:]
    ours = load_state(os.path.join(resumed, candidates[1]), "recognizer")[0]
    theirs = load_state(os.path.join(kws_tiny.exp, candidates[1]), "recognizer")[0]
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert "--jobs" in fails(RECIPES["kws"], "--jobs", "0", "--exp_dir", str(tmp_path / "e"))


def test_a_scoring_group_that_fails_is_one_line(kws_tiny, tmp_path):
    # one system's checkpoint corrupted: its scoring group (side by side with
    # the other) fails in its log, the one call after it ends on one line
    # naming the file
    import glob
    import shutil

    exp = shutil.copytree(kws_tiny.exp, tmp_path / "exp", symlinks=True)
    ckpts = glob.glob(str(exp / "null_importantaug" / "save" / "CKPT*" / "recognizer.ckpt"))
    for ckpt in ckpts:
        with open(ckpt, "wb") as f:
            f.write(b"not a checkpoint")
    proc = subprocess.run(["bash", RECIPES["kws"], *kws_tiny.args[:-4], "--exp_dir", str(exp),
                           "--stage", "9", "--jobs", "2"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **kws_tiny.env})
    assert proc.returncode != 0 and "scoring in 2 groups side by side" in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("iaug-eval: error: ") and any(c in last for c in ckpts), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_the_generator_trains_beside_stages_3_and_6_as_it_trains_alone(kws_tiny, tmp_path):
    # the shared experiment ran with --jobs 2: the generator in the
    # background while stages 3 and 6 ran, each system with its share of the
    # threads; trained one after another with that share: the same bytes
    import shutil

    import torch

    from iaug.checkpoints import load_state

    order = [kws_tiny.log.index(f"Stage {n}:") for n in (4, 3, 6, 5)]
    assert order == sorted(order) and "generator: training in the background" in kws_tiny.log
    exp = str(tmp_path / "exp")
    shutil.copytree(os.path.join(kws_tiny.exp, "baseline"), os.path.join(exp, "baseline"))
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    proc = subprocess.run(["bash", RECIPES["kws"], *kws_tiny.args[:-4], "--exp_dir", exp,
                           "--stage", "3", "--stop_stage", "6", "--nthreads", str(share), "--jobs", "1"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **kws_tiny.env})
    assert proc.returncode == 0 and "background" not in proc.stdout, proc.stderr[-2000:]
    for system, module in (("generator", "generator"), ("null_importantaug", "recognizer"),
                           ("noise", "recognizer"), ("importantaug", "recognizer")):
        ours = load_state(os.path.join(exp, system), module)[0]
        theirs = load_state(os.path.join(kws_tiny.exp, system), module)[0]
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), system


def test_a_generator_that_fails_beside_is_one_line_and_nothing_keeps_training(kws_tiny, tmp_path):
    import shutil

    exp = tmp_path / "exp"
    shutil.copytree(os.path.join(kws_tiny.exp, "baseline"), exp / "baseline")
    (exp / "generator").write_text("a file where the generator's folder goes")
    proc = subprocess.run(["bash", RECIPES["kws"], *kws_tiny.args[:-4], "--exp_dir", str(exp),
                           "--stage", "3", "--stop_stage", "5", "--jobs", "2"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **kws_tiny.env})
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode != 0 and last.startswith("run.sh: generator failed: "), proc.stderr[-2000:]
    assert str(exp / "log_generator.log") in last
    assert not (exp / "importantaug").exists()  # stage 5 never started
