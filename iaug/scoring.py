"""Results tables: the one reader and writer of ``results.csv``, the markdown
report, dev selection. Every file is written whole or not at all."""

import contextlib
import csv
import glob
import json
import logging
import math
import os
import re

logger = logging.getLogger(__name__)

# One results table format for every recipe and task: the error rate is the
# task's own (keyword error, WER, ...), in %.
RESULT_FIELDS = ["system", "test_set", "snr_db", "error_rate", "num_utts"]


@contextlib.contextmanager
def atomic_open(path):
    """Open ``path`` for writing text; it appears, whole, only on success."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            yield f
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write(path, text):
    with atomic_open(path) as f:
        f.write(text)


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path``; it appears, whole, only on success."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def test_set_name(manifest_path):
    """``.../noisy/qut_snr-12.5.csv`` -> ('qut', -12.5); ``.../test.csv`` -> ('test', None)."""
    stem = os.path.splitext(os.path.basename(manifest_path))[0]
    match = re.fullmatch(r"(.+)_snr(-?\d+(?:\.\d+)?)", stem)
    return (match.group(1), float(match.group(2))) if match else (stem, None)


def result_row(system, manifest_name, error_rate, num_utts):
    """A results row; the test set and SNR come from the manifest's name."""
    test_set, snr = test_set_name(manifest_name)
    return {"system": system, "test_set": test_set, "snr_db": "" if snr is None else f"{snr:g}",
            "error_rate": f"{error_rate:.4f}", "num_utts": num_utts}


def write_results(results_csv, rows):
    with atomic_open(results_csv) as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS)
        writer.writeheader()
        writer.writerows({k: r[k] for k in RESULT_FIELDS} for r in rows)


def append_rows(results_csv, rows):
    """Add rows, replacing earlier rows of the same (system, test_set, snr)."""
    key = lambda r: (r["system"], r["test_set"], str(r["snr_db"]))
    kept = read_results(results_csv) if os.path.isfile(results_csv) else []
    new_keys = {key(r) for r in rows}
    write_results(results_csv, [r for r in kept if key(r) not in new_keys] + list(rows))


def snr_value(value):
    """SNR of a results row as a float; None for a clean test set."""
    try:
        snr = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(snr) or math.isinf(snr) else snr


def read_results(results_csv):
    """Rows of a results file as dicts (:data:`RESULT_FIELDS`, as text), with
    ``snr`` (float or None) and ``value`` (the error rate, float) parsed."""
    with open(results_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{results_csv} has no rows")
    missing = set(RESULT_FIELDS) - set(rows[0])
    if missing:
        raise ValueError(f"{results_csv} lacks column(s) {sorted(missing)}")
    for row in rows:
        row["snr"] = snr_value(row["snr_db"])
        row["value"] = float(row["error_rate"])
    return rows


def relative_reduction(error, reference):
    """Relative error reduction in % (positive = fewer errors than reference)."""
    return 100.0 * (reference - error) / reference if reference > 0 else float("nan")


def results_markdown(rows, metric_name="error rate", baseline="baseline", conventional="noise"):
    """Markdown table: systems x test sets, then relative reductions on each set."""
    sets = sorted({(r["test_set"], r["snr_db"]) for r in rows},
                  key=lambda s: (s[1] != "", s[0], float(s[1]) if s[1] else 0.0))
    systems = list(dict.fromkeys(r["system"] for r in rows))
    value = {(r["system"], r["test_set"], r["snr_db"]): float(r["error_rate"]) for r in rows}
    label = lambda s: s[0] if s[1] == "" else f"{s[0]} {float(s[1]):g} dB"
    lines = [f"{metric_name} (%), lower is better", "",
             "| system | " + " | ".join(label(s) for s in sets) + " |",
             "|---" * (len(sets) + 1) + "|"]
    for system in systems:
        cells = [f"{value[(system, *s)]:.2f}" if (system, *s) in value else "-" for s in sets]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    for ref in (baseline, conventional):
        if ref not in systems or len(systems) < 2:  # nothing to compare with
            continue
        lines += ["", f"Relative error reduction against {ref} (%), higher is better", "",
                  "| system | " + " | ".join(label(s) for s in sets) + " |",
                  "|---" * (len(sets) + 1) + "|"]
        for system in systems:
            if system == ref:
                continue
            cells = []
            for s in sets:
                if (system, *s) in value and value.get((ref, *s), 0) > 0:
                    cells.append(f"{relative_reduction(value[(system, *s)], value[(ref, *s)]):+.1f}")
                else:
                    cells.append("-")
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def dev_score(exp_folder):
    """(dev error rate, dev loss) of a trained system's best checkpoint."""
    path = os.path.join(exp_folder, "summary.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} missing: has {exp_folder} finished training?")
    with open(path, encoding="utf-8") as f:
        best = json.load(f)["best_dev"]
    return float(best.get("error_rate", float("nan"))), float(best["loss"])


def table_scores(results_csv, candidates):
    """{candidate: (mean error over every set it was scored on in
    ``results_csv``, its clean dev loss)}: each set (e.g. the clean dev set
    and the noisy dev sets at each SNR) weighs the same; the results rows
    name a candidate by its folder's name, as iaug-eval does."""
    rows = read_results(results_csv)
    scores = {}
    for c in candidates:
        errors = [r["value"] for r in rows if r["system"] == os.path.basename(os.path.normpath(c))]
        if not errors:
            raise ValueError(f"{results_csv} has no scores of {os.path.basename(c)}: score it first")
        scores[c] = (sum(errors) / len(errors), dev_score(c)[1])
    return scores


def select_on_dev(candidates, link, scores=None, criterion="clean dev error"):
    """Point ``link`` (a symlink) at the candidate with the lowest dev error
    (ties: lower dev loss); write the choice to ``<link>.selection.json``.
    ``scores``: {candidate: (error, loss)} to choose by (default: each
    candidate's best clean-dev checkpoint, :func:`dev_score`)."""
    scores = scores or {c: dev_score(c) for c in candidates}
    best = min(scores, key=lambda c: scores[c])
    target = os.path.relpath(best, os.path.dirname(os.path.abspath(link)))
    if os.path.islink(link):
        if os.readlink(link) != target:  # an unchanged choice keeps its time stamp
            os.remove(link)
            os.symlink(target, link)
    elif os.path.exists(link):
        raise FileExistsError(f"{link} exists and is not a selection link; remove it")
    else:
        os.symlink(target, link)
    atomic_write(link + ".selection.json",
                 json.dumps({"chosen": best, "dev_scores": scores, "criterion": criterion}, indent=2))
    logger.info("selected %s on dev (error, loss) = %s", best, scores[best])
    return best, scores


def dev_choices(exp_dir, metric="error"):
    """Markdown lines: each dev selection made in ``exp_dir`` and its scores."""
    lines = []
    for path in sorted(glob.glob(os.path.join(exp_dir, "*.selection.json"))):
        with open(path, encoding="utf-8") as f:
            sel = json.load(f)
        scores = ", ".join(f"{os.path.basename(k)}: {v[0]:.2f} % / {v[1]:.3f}"
                           for k, v in sel["dev_scores"].items())
        lines.append(f"- `{os.path.basename(path)[:-len('.selection.json')]}` = "
                     f"`{os.path.basename(sel['chosen'])}` (dev {metric} / loss: {scores})")
    return lines


if __name__ == "__main__":
    # run.sh: python -m iaug.scoring select LINK CANDIDATE... (the choice on
    # the clean dev set); --table RESULTS_CSV: on the mean error over the
    # sets scored there (benchmark.sh v2: clean and noisy dev)
    import sys

    args = sys.argv[1:]
    table = None
    if args[1:2] == ["--table"]:
        if len(args) < 3:
            sys.exit("--table needs a results CSV")
        table = args[2]
        del args[1:3]
    if len(args) < 3 or args[0] != "select":
        sys.exit("usage: python -m iaug.scoring select [--table RESULTS_CSV] LINK CANDIDATE...")
    logging.basicConfig(level=logging.INFO, format="%(name)s - %(message)s")
    try:
        scores = table_scores(table, args[2:]) if table else None
        chosen = select_on_dev(args[2:], args[1], scores,
                               "mean error over the sets of " + os.path.basename(table) if table
                               else "clean dev error")[0]
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"select: error: {err}")
    print("chosen on dev:", os.path.basename(chosen))
