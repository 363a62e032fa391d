"""The keyword-spotting recipe end to end: run.sh on the tiny synth corpus,
a DDP training stage on the CPU, and iaug-eval on a GSC-layout folder."""

import csv
import json
import os
import subprocess

import pytest

from conftest import make_authors_ckpt, make_toy_corpus, run_script

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RUN = os.path.join(ROOT, "egs", "gsc_qut", "kws", "run.sh")
SYSTEMS = {"baseline", "noise", "importantaug", "null_importantaug", "binarized"}
SNRS = {"-12.5", "-10", "0", "10", "20", "30", "40"}


def run(*args, timeout=600):
    return run_script(RUN, *args, timeout=timeout)


@pytest.mark.slow
def test_tiny_recipe_all_stages(tmp_path, monkeypatch):
    data, exp = str(tmp_path / "my data"), str(tmp_path / "my exp")  # spaces in paths work
    # recordings "of people" to check against, in Speech Commands layout (here: tones)
    people = os.path.join(make_toy_corpus(str(tmp_path / "people")), "wav")
    monkeypatch.setenv("IAUG_REAL_SPEECH_DIR", people)
    log = run("--corpus", "synth", "--preset", "tiny", "--data_dir", data, "--exp_dir", exp)
    with open(os.path.join(exp, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["system", "test_set", "snr_db", "error_rate", "num_utts"]
    cells = {(r["system"], r["test_set"], r["snr_db"]) for r in rows}
    expected = {(s, "test", "") for s in SYSTEMS} | {(s, "qut", snr) for s in SYSTEMS for snr in SNRS}
    assert cells == expected | {(s, "wav", "") for s in SYSTEMS}
    assert "also scoring the recordings of people in " + people in log
    for r in rows:
        assert 0.0 <= float(r["error_rate"]) <= 100.0 and int(r["num_utts"]) > 0
    md = open(os.path.join(exp, "results.md")).read()
    assert "Relative error reduction against baseline" in md and "against noise" in md
    for png in ("error_vs_snr.png", "importance_maps.png"):
        with open(os.path.join(exp, png), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    for chosen_on_dev in ("noise", "importantaug", "binarized"):
        assert os.path.islink(os.path.join(exp, chosen_on_dev))
    assert "- `importantaug` = `importantaug_snr" in md  # the stage-B SNR chosen on dev
    assert "mean noise mask: " in md and " on the speech bins " in md  # the generator's diagnostic
    assert "| importantaug |" in log  # the table is printed at the end
    # the default front-end is the stable one, for every system
    for s in SYSTEMS:
        text = open(os.path.join(exp, s, "hyperparams.yaml")).read()
        assert "\ntop_db: 80\n" in text and "\nnormalize_input: true\n" in text, s

    # A rerun skips every finished stage.
    again = run("--corpus", "synth", "--preset", "tiny", "--data_dir", data, "--exp_dir", exp,
                "--stage", "0", "--stop_stage", "8")
    assert again.count("done, skipping") == 9  # baseline, 2 SNRs, generator, 2 ia SNRs, null, 2 q
    assert "training" not in again.replace("done, skipping", "")

    # A system that never finished training is named, not scored.
    os.makedirs(os.path.join(exp, "specaugment"))
    with open(os.path.join(exp, "baseline", "hyperparams.yaml")) as f, \
            open(os.path.join(exp, "specaugment", "hyperparams.yaml"), "w") as g:
        g.write(f.read())
    scored = run("--corpus", "synth", "--preset", "tiny", "--data_dir", data, "--exp_dir", exp,
                 "--stage", "9")
    assert "not scored, training unfinished: specaugment" in scored
    assert "Not scored, training unfinished: specaugment." in open(os.path.join(exp, "results.md")).read()
    with open(os.path.join(exp, "results.csv")) as f:
        assert {r["system"] for r in csv.DictReader(f)} == SYSTEMS

    # iaug-eval on a folder in GSC layout: the last line is JSON
    out = subprocess.run(["iaug-eval", "--exp_dir", exp, "--system", "importantaug",
                          "--data_dir", os.path.join(data, "noisy_test", "qut_snr0")],
                         capture_output=True, text=True, check=True).stdout
    last = json.loads(out.strip().splitlines()[-1])
    assert last["system"] == "importantaug" and last["num_utts"] == 35
    row = [r for r in rows if (r["system"], r["snr_db"]) == ("importantaug", "0")][0]
    assert last["error_rate"] == pytest.approx(float(row["error_rate"]), abs=1e-3)


@pytest.mark.slow
def test_training_stage_under_torchrun_on_cpu(tmp_path):
    # 80 training utterances, batch 32: one process takes 3 steps an epoch,
    # each of two DDP ranks (gloo) takes 2 on its half of the data.
    corpus = make_toy_corpus(str(tmp_path / "toy"), per_label=22)
    exp = str(tmp_path / "exp")
    log = run("--stage", "2", "--stop_stage", "2", "--data_dir", corpus, "--exp_dir", exp,
              "--preset", "tiny", "--ngpu", "2")
    assert "training baseline" in log
    assert "| 2/2 [" in log and "| 3/3 [" not in log
    with open(os.path.join(exp, "baseline", "summary.json")) as f:
        assert json.load(f)["best_dev"]["loss"] > 0


@pytest.mark.slow
def test_training_stage_on_two_nodes(tmp_path):
    # two "machines" on this one: the same command with node ranks 0 and 1,
    # one process each, meeting at one rendezvous endpoint (gloo)
    corpus = make_toy_corpus(str(tmp_path / "toy"), per_label=22)
    exp = str(tmp_path / "exp")
    args = ["bash", RUN, "--stage", "2", "--stop_stage", "2", "--data_dir", corpus, "--exp_dir", exp,
            "--preset", "tiny", "--ngpu", "1", "--nnodes", "2", "--rdzv_endpoint", "localhost:29533"]
    nodes = [subprocess.Popen([*args, "--node_rank", str(r)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for r in (0, 1)]
    logs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    assert "| 2/2 [" in logs[0] and "| 3/3 [" not in logs[0]  # each node half of the data
    assert os.path.isfile(os.path.join(exp, "baseline", ".done"))


def test_multi_node_options_are_checked(tmp_path):
    for args, message in ((["--nnodes", "2", "--ngpu", "1"], "--rdzv_endpoint HOST:PORT"),
                          (["--nnodes", "2", "--ngpu", "1", "--node_rank", "2",
                            "--rdzv_endpoint", "h:1"], "--node_rank is 0 to 1"),
                          (["--nnodes", "x"], "--nnodes is a positive number")):
        proc = subprocess.run(["bash", RUN, *args, "--exp_dir", str(tmp_path / "e")],
                              capture_output=True, text=True)
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_option_and_preset_fail_clearly(tmp_path):
    for args, message in ((["--bogus", "1"], "unknown option --bogus"),
                          (["--preset", "huge"], "unknown preset 'huge'")):
        proc = subprocess.run(["bash", RUN, *args, "--exp_dir", str(tmp_path)],
                              capture_output=True, text=True)
        assert proc.returncode != 0 and message in proc.stderr
        assert "Traceback" not in proc.stderr


def test_fixes_options_fail_clearly(tmp_path):
    fixes = os.path.join(os.path.dirname(RUN), "experiments", "fixes.sh")
    for args, message in ((["--fixes", "4"], 'the fixes are 1, 2 and 3'),
                          (["--fixes", "3 1"], 'runs fix 3 without fix 2, which chooses its SNR: pass --gen_snr'),
                          (["--fixes", "3", "--gen_snr", "15"], f"{tmp_path}/seed1/baseline is not trained")):
        proc = subprocess.run(["bash", fixes, *args, "--seeds", "1", "--bench_dir", str(tmp_path)],
                              capture_output=True, text=True)
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_benchmark_tiny_one_seed(tmp_path):
    bench, data = str(tmp_path / "bench"), str(tmp_path / "data")
    authors = make_authors_ckpt(tmp_path / "authors_format.pt")  # seeded, for importantaug_authorsgen
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # --nj 2: the seed trains in the background, logging to seed1.log
    proc = subprocess.run(["bash", os.path.join(os.path.dirname(RUN), "benchmark.sh"),
                           "--preset", "tiny", "--seeds", "1", "--nj", "2", "--data_dir", data,
                           "--bench_dir", bench, "--authors_ckpt", authors],
                          capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "seed 1 finished" in open(os.path.join(bench, "seed1.log")).read()
    md = open(os.path.join(bench, "benchmark.md")).read()
    rows = ["baseline", "noise", "sb_augment", "specaugment", "null_importantaug", "importantaug",
            "binarized", "importantaug_authorsgen", "importantaug_specaugment"]
    table = md.split("\n\n")[2]  # the first table: one line per row
    assert [line.split(" | ")[0][2:] for line in table.splitlines()[2:]] == rows
    assert "Exact McNemar" in md and "| noise | " in md.split("Exact McNemar")[1]
    assert "noise_energy_share" in md
    with open(os.path.join(bench, "benchmark_snr.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    # The fixes on that seed: stage B at conventional noise's SNR candidates
    # (tiny: 0 and 15 dB), a longer generator, and a generator trained at the
    # stage-B SNR (here set, 15 dB), chosen on dev.
    fixes = os.path.join(os.path.dirname(RUN), "experiments", "fixes.sh")
    args = ["--preset", "tiny", "--seeds", "1", "--gen_epochs", "3", "--gen_snr", "15",
            "--data_dir", data, "--bench_dir", bench]
    proc = subprocess.run(["bash", fixes, *args], capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    seed = os.path.join(bench, "seed1")
    with open(os.path.join(seed, "generator_ep3", "train_log.txt")) as f:
        epochs = [line.split(",")[0] for line in f if line.startswith("epoch:")]
    assert epochs == ["epoch: 1", "epoch: 2", "epoch: 3"]  # its own run, not a copy of another's
    chosen = json.load(open(os.path.join(seed, "importantaug_fixed.selection.json")))
    with open(os.path.join(seed, "generator_snr15", "train_log.txt")) as f:
        epochs = [line.split(",")[0] for line in f if line.startswith("epoch:")]
    assert epochs == ["epoch: 1", "epoch: 2"]  # from scratch, as long as the benchmark's generator
    # -12.5, 0, 15 dB; generator_ep3 at -12.5 (and at the best); generator_snr15 at 15
    assert len(chosen["dev_scores"]) in (5, 6)
    assert any(path.endswith("importantaug_gensnr15") for path in chosen["dev_scores"])
    assert os.path.realpath(os.path.join(seed, "importantaug_fixed")) == os.path.realpath(chosen["chosen"])
    md = open(os.path.join(bench, "fixes.md")).read()
    table = md.split("\n\n")[2]
    names = [line.split(" | ")[0][2:] for line in table.splitlines()[2:]]
    assert names[:5] == ["baseline", "noise", "null_importantaug", "importantaug", "importantaug_snr0"]
    assert names[-1] == "importantaug_fixed" and "importantaug_gen3_snr-12.5" in names
    assert "importantaug_gensnr15" in names
    assert "What `generator_ep3` learned (dev set, dev noise at -12.5 dB" in md
    assert "What `generator_snr15` learned (dev set, dev noise at 15 dB" in md  # its own SNR
    assert "Exact McNemar tests, `importantaug_fixed`" in md
    scored = os.path.join(seed, "importantaug_fixed", "eval", "test.csv")
    before = os.stat(scored).st_mtime_ns
    again = subprocess.run(["bash", fixes, *args], capture_output=True, text=True, timeout=900, env=env)
    assert again.returncode == 0 and "] training " not in again.stdout  # all skipped
    assert os.stat(scored).st_mtime_ns == before  # scores read back, not recomputed
    assert open(os.path.join(bench, "fixes.md")).read() == md

    # Fix 3 alone reuses what is trained and reports apart, leaving the full run's choice as it is.
    fixed = os.path.realpath(os.path.join(seed, "importantaug_fixed"))
    three = subprocess.run(["bash", fixes, *args, "--fixes", "3"], capture_output=True, text=True,
                           timeout=900, env=env)
    assert three.returncode == 0 and "] training " not in three.stdout, three.stderr[-3000:]
    assert "fix 1" not in three.stdout and "fix 2" not in three.stdout
    assert os.path.realpath(os.path.join(seed, "importantaug_fixed")) == fixed
    chosen = json.load(open(os.path.join(seed, "importantaug_fixed3.selection.json")))
    assert sorted(os.path.basename(p) for p in chosen["dev_scores"]) == ["importantaug", "importantaug_gensnr15"]
    md3 = open(os.path.join(bench, "fixes3.md")).read()
    names = [line.split(" | ")[0][2:] for line in md3.split("\n\n")[2].splitlines()[2:]]
    assert names == ["baseline", "noise", "null_importantaug", "importantaug", "importantaug_gensnr15",
                     "importantaug_fixed3"]
    assert os.path.isfile(os.path.join(seed, "fixes3.csv"))
