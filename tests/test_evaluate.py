"""iaug-eval reads a score back from its saved decisions only while they are
newer than the checkpoint and the manifest."""

import json
import os

import speechbrain as sb

from conftest import fake_kws_system, make_toy_corpus
from iaug.cli.evaluate import main
from iaug.models import Recognizer

def evaluate(exp, manifest, capsys, *extra):
    """Error rate, and whether the saved decisions were read back (file untouched)."""
    decisions = os.path.join(exp, "baseline", "eval", "test.csv")
    before = os.stat(decisions).st_mtime_ns if os.path.exists(decisions) else None
    assert main(["--exp_dir", exp, "--system", "baseline", "--manifest", manifest, *extra]) == 0
    score = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return score["error_rate"], os.stat(decisions).st_mtime_ns == before


def test_saved_decisions_are_reused_until_stale(tmp_path, capsys):
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    manifest = os.path.join(corpus, "manifests", "test.csv")
    exp = str(tmp_path / "exp")
    fake_kws_system(exp)
    decisions = os.path.join(exp, "baseline", "eval", "test.csv")

    rate, reused = evaluate(exp, manifest, capsys)
    assert not reused and os.path.isfile(decisions)
    # the rerun reads the file: change one decision there and the score follows
    with open(decisions) as f:
        lines = f.read().splitlines()
    utt, label, prediction, correct = lines[1].split(",")
    flipped = label if correct == "0" else ("yes" if label != "yes" else "no")
    lines[1] = ",".join([utt, label, flipped, str(int(flipped == label))])
    with open(decisions, "w") as f:
        f.write("\n".join(lines) + "\n")
    n = len(lines) - 1
    edited, reused = evaluate(exp, manifest, capsys)
    assert reused
    assert abs(abs(edited - rate) - 100.0 / n) < 1e-9

    # --rescore, and a newer best checkpoint, both score the recognizer again
    again, reused = evaluate(exp, manifest, capsys, "--rescore")
    assert not reused and again == rate
    sb.utils.checkpoints.Checkpointer(os.path.join(exp, "baseline", "save"),
                                      {"recognizer": Recognizer()}).save_checkpoint(meta={"loss": 1.0})
    _, reused = evaluate(exp, manifest, capsys)
    assert not reused
    _, reused = evaluate(exp, manifest, capsys)
    assert reused
    os.utime(manifest)  # the test set was rebuilt
    _, reused = evaluate(exp, manifest, capsys)
    assert not reused
