import json
import os

import pytest

from iaug.scoring import select_on_dev


def system(root, name, error, loss):
    path = os.path.join(root, name)
    os.makedirs(path)
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump({"best_dev": {"error_rate": error, "loss": loss}}, f)
    return path


def test_select_on_dev_lowest_error_then_loss_and_link_kept_when_unchanged(tmp_path):
    a = system(tmp_path, "a", 5.0, 0.3)
    b = system(tmp_path, "b", 4.0, 0.9)
    c = system(tmp_path, "c", 4.0, 0.2)  # ties with b on error, lower loss
    link = str(tmp_path / "chosen")
    best, scores = select_on_dev([a, b, c], link)
    assert best == c and os.readlink(link) == "c" and scores[a] == (5.0, 0.3)
    assert json.load(open(link + ".selection.json"))["chosen"] == c
    os.utime(link, (1, 1), follow_symlinks=False)
    select_on_dev([a, b, c], link)  # same choice: the link (and its time) stay
    assert os.lstat(link).st_mtime == 1
    select_on_dev([a, b], link)  # a new choice moves it
    assert os.readlink(link) == "b" and os.lstat(link).st_mtime > 1


def test_select_on_dev_refuses_to_replace_a_directory_and_names_missing_summary(tmp_path):
    a = system(tmp_path, "a", 5.0, 0.3)
    os.makedirs(tmp_path / "chosen")
    with pytest.raises(FileExistsError, match="not a selection link"):
        select_on_dev([a], str(tmp_path / "chosen"))
    with pytest.raises(FileNotFoundError, match="nothing.summary.json missing: has .* finished training"):
        select_on_dev([a, str(tmp_path / "nothing")], str(tmp_path / "x"))


def test_a_table_of_one_system_has_no_reduction_table():
    from iaug.scoring import results_markdown

    row = {"system": "baseline", "test_set": "test", "snr_db": "", "error_rate": "10.0"}
    alone = results_markdown([row])
    assert "| baseline | 10.00 |" in alone and "Relative error reduction" not in alone
    both = results_markdown([row, {**row, "system": "noise", "error_rate": "8.0"}])
    assert "Relative error reduction against baseline" in both and "| noise | +20.0 |" in both
