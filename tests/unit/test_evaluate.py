"""iaug-eval reuses saved decisions only when they were made by the same
checkpoint on the same test-set contents; a foreign folder never takes a test
set's place."""

import csv
import json
import os
import shutil

import soundfile as sf
import speechbrain as sb

from helpers import fake_kws_system, make_toy_corpus
from iaug.cli.evaluate import main
from iaug.models import Recognizer


def evaluate(exp, capsys, *args):
    """The JSON score line and whether the decisions file was left untouched."""
    decisions = os.path.join(exp, "baseline", "eval", "test.csv")
    before = os.stat(decisions).st_mtime_ns if os.path.exists(decisions) else None
    assert main(["--exp_dir", exp, "--system", "baseline", *args]) == 0
    score = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return score, os.path.exists(decisions) and os.stat(decisions).st_mtime_ns == before


def system(tmp_path):
    """(toy corpus, its test manifest, an experiment folder with a baseline)."""
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    exp = str(tmp_path / "exp")
    fake_kws_system(exp)
    return corpus, os.path.join(corpus, "manifests", "test.csv"), exp


def test_saved_decisions_are_reused_only_when_they_match(tmp_path, capsys):
    _, manifest, exp = system(tmp_path)
    score, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert not reused and score["num_utts"] == 4
    with open(score["decisions"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["ID"] for r in rows] == [f"{w}_5" for w in ("backward", "bed", "bird", "cat")]
    assert 100.0 * sum(r["errors"] != "0" for r in rows) / 4 == score["error_rate"]

    _, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert reused
    # touching the manifest changes nothing; changing what it lists does
    os.utime(manifest)
    _, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert reused
    # the audio it lists rebuilt in place, the manifest's bytes unchanged
    with open(manifest, newline="") as f:
        first_wav = next(csv.DictReader(f))["wav"]
    wav, rate = sf.read(first_wav, dtype="float32")
    sf.write(first_wav, 0.5 * wav, rate, subtype="PCM_16")
    _, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert not reused
    _, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert reused
    with open(manifest) as f:
        lines = f.read().splitlines()
    with open(manifest, "w") as f:
        f.write("\n".join(lines[:-1]) + "\n")
    score, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert not reused and score["num_utts"] == 3
    # --rescore, and a new best checkpoint, score again
    _, reused = evaluate(exp, capsys, "--manifest", manifest, "--rescore")
    assert not reused
    sb.utils.checkpoints.Checkpointer(os.path.join(exp, "baseline", "save"),
                                      {"recognizer": Recognizer()}).save_checkpoint(meta={"loss": 1.0})
    _, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert not reused


def test_a_folder_named_like_a_test_set_keeps_its_own_decisions(tmp_path, capsys):
    corpus, manifest, exp = system(tmp_path)
    stage, _ = evaluate(exp, capsys, "--manifest", manifest)
    # a foreign folder called "test", in Speech Commands layout
    foreign = tmp_path / "elsewhere" / "test"
    shutil.copytree(os.path.join(corpus, "wav"), foreign)
    other, _ = evaluate(exp, capsys, "--data_dir", str(foreign))
    assert other["decisions"] != stage["decisions"] and other["num_utts"] == 24
    again, reused = evaluate(exp, capsys, "--manifest", manifest)
    assert reused and again == stage


def test_results_table_is_written_whole(tmp_path, capsys):
    _, manifest, exp = system(tmp_path)
    table = os.path.join(exp, "results.csv")
    evaluate(exp, capsys, "--manifest", manifest, "--results_csv", table)
    before = open(table).read()
    # a failing call leaves the previous table as it was
    assert main(["--exp_dir", exp, "--system", "baseline", "--manifest", "/nonexistent.csv",
                 "--results_csv", table]) == 1
    assert open(table).read() == before


def test_a_checkpoint_file_is_scored_with_its_outputs_under_exp_dir(tmp_path, capsys, authors_ckpt):
    corpus, manifest, exp = system(tmp_path)
    shelf = tmp_path / "shelf"  # the checkpoint's folder, read-only for CI's ../shared
    shelf.mkdir()
    ckpt = str(shelf / "authors.pt")
    shutil.copy(authors_ckpt, ckpt)
    kws = os.path.join(os.path.dirname(__file__), "..", "..", "egs", "gsc_qut", "kws", "hparams", "baseline.yaml")
    assert main(["--exp_dir", exp, "--system", f"authors={ckpt}", "--hparams", kws,
                 "--overrides", f"{{data_dir: '{corpus}'}}", "--manifest", manifest]) == 0
    score = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert score["system"] == "authors" and score["num_utts"] == 4
    assert score["decisions"].startswith(os.path.join(exp, "authors", "eval"))
    assert os.path.isfile(os.path.join(exp, "authors", "eval", "log.txt"))
    assert os.listdir(shelf) == ["authors.pt"]


def test_num_workers_reach_the_loader_and_change_no_decision(tmp_path, capsys, monkeypatch):
    from iaug.brains import RecognizerBrain

    _, manifest, exp = system(tmp_path)
    workers = []
    make = RecognizerBrain.make_dataloader

    def recording(self, dataset, stage, *args, **kwargs):
        loader = make(self, dataset, stage, *args, **kwargs)
        workers.append(loader.num_workers)
        return loader

    monkeypatch.setattr(RecognizerBrain, "make_dataloader", recording)
    score, _ = evaluate(exp, capsys, "--manifest", manifest)
    with open(score["decisions"], "rb") as f:
        decisions = f.read()
    again, _ = evaluate(exp, capsys, "--manifest", manifest, "--rescore", "--num_workers", "0")
    assert workers == [2, 0]  # the system's dev loader's (the KWS baseline's 2), then the option's
    with open(again["decisions"], "rb") as f:
        assert f.read() == decisions and again == score


def test_a_bad_file_read_in_a_loader_worker_is_one_line(tmp_path, capsys):
    import numpy as np

    _, manifest, exp = system(tmp_path)
    with open(manifest, newline="") as f:
        bad = next(csv.DictReader(f))["wav"]
    sf.write(bad, np.full(16000, np.nan, dtype="float32"), 16000, subtype="FLOAT")
    capsys.readouterr()
    assert main(["--exp_dir", exp, "--system", "baseline", "--manifest", manifest]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"iaug-eval: error: audio file {bad} has NaN or infinite samples", err
