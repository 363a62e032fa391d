"""The keyword-spotting recipe end to end: run.sh on the tiny synth corpus
(the session's `kws_tiny`), a DDP training stage on the CPU, and iaug-eval on
a GSC-layout folder."""

import csv
import json
import os
import shutil
import subprocess

import pytest

from helpers import RECIPES, make_toy_corpus, run_script

RUN = RECIPES["kws"]
SYSTEMS = {"baseline", "noise", "importantaug", "null_importantaug", "binarized"}
SNRS = {"-12.5", "-10", "0", "10", "20", "30", "40"}


def run(*args, **options):
    return run_script(RUN, *args, **options)


def results(exp):
    with open(os.path.join(exp, "results.csv")) as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_tiny_recipe_all_stages(kws_tiny):
    exp, log = kws_tiny.exp, kws_tiny.log  # spaces in paths work
    rows = results(exp)
    assert list(rows[0]) == ["system", "test_set", "snr_db", "error_rate", "num_utts"]
    cells = {(r["system"], r["test_set"], r["snr_db"]) for r in rows}
    expected = {(s, "test", "") for s in SYSTEMS} | {(s, "qut", snr) for s in SYSTEMS for snr in SNRS}
    assert cells == expected | {(s, "wav", "") for s in SYSTEMS}
    assert "also scoring the recordings of people in " + kws_tiny.people in log
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


@pytest.mark.slow
def test_a_rerun_skips_every_finished_stage(kws_tiny):
    again = run(*kws_tiny.args, "--stage", "0", "--stop_stage", "8", env=kws_tiny.env)
    assert again.count("done, skipping") == 9  # baseline, 2 SNRs, generator, 2 ia SNRs, null, 2 q
    assert "training" not in again.replace("done, skipping", "")


@pytest.mark.slow
def test_a_system_that_never_finished_training_is_named_not_scored(kws_tiny, tmp_path):
    exp = shutil.copytree(kws_tiny.exp, tmp_path / "exp", symlinks=True)
    os.makedirs(os.path.join(exp, "specaugment"))
    with open(os.path.join(exp, "baseline", "hyperparams.yaml")) as f, \
            open(os.path.join(exp, "specaugment", "hyperparams.yaml"), "w") as g:
        g.write(f.read())
    scored = run("--corpus", "synth", "--preset", "tiny", "--data_dir", kws_tiny.data, "--exp_dir", exp,
                 "--stage", "9", env=kws_tiny.env)
    assert "not scored, training unfinished: specaugment" in scored
    assert "Not scored, training unfinished: specaugment." in open(os.path.join(exp, "results.md")).read()
    assert {r["system"] for r in results(exp)} == SYSTEMS


@pytest.mark.slow
def test_iaug_eval_on_a_folder_in_gsc_layout(kws_tiny):
    # the last line is JSON: the error rate of the recipe's own scoring of that set
    out = subprocess.run(["iaug-eval", "--exp_dir", kws_tiny.exp, "--system", "importantaug",
                          "--data_dir", os.path.join(kws_tiny.data, "noisy_test", "qut_snr0")],
                         capture_output=True, text=True, check=True).stdout
    last = json.loads(out.strip().splitlines()[-1])
    assert last["system"] == "importantaug" and last["num_utts"] == 35
    row = [r for r in results(kws_tiny.exp) if (r["system"], r["snr_db"]) == ("importantaug", "0")][0]
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
    both = logs[0] + logs[1]  # the rendezvous gives global rank 0 (progress bars) to either node
    assert "| 2/2 [" in both and "| 3/3 [" not in both  # each node half of the data
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
