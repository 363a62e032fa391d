"""Results tables: rows of ``results.csv``, the markdown report, dev selection."""

import csv
import glob
import json
import logging
import os
import re

logger = logging.getLogger(__name__)

RESULT_FIELDS = ["system", "test_set", "snr_db", "error_rate", "num_utts"]


def test_set_name(manifest_path):
    """``.../noisy/qut_snr-12.5.csv`` -> ('qut', -12.5); ``.../test.csv`` -> ('test', None)."""
    stem = os.path.splitext(os.path.basename(manifest_path))[0]
    match = re.fullmatch(r"(.+)_snr(-?\d+(?:\.\d+)?)", stem)
    return (match.group(1), float(match.group(2))) if match else (stem, None)


def append_rows(results_csv, rows, fields=RESULT_FIELDS):
    """Append rows, replacing earlier rows of the same (system, test_set, snr)."""
    key = lambda r: (r["system"], r["test_set"], str(r["snr_db"]))
    kept = read_rows(results_csv) if os.path.isfile(results_csv) else []
    new_keys = {key(r) for r in rows}
    kept = [r for r in kept if key(r) not in new_keys]
    with open(results_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept + rows)


def read_rows(results_csv):
    with open(results_csv, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def relative_reduction(error, reference):
    """Relative error reduction in % (positive = fewer errors than reference)."""
    return 100.0 * (reference - error) / reference if reference > 0 else float("nan")


def results_markdown(rows, metric="error_rate", baseline="baseline", conventional="noise"):
    """Markdown table: systems x test sets, then relative reductions on each set."""
    sets = sorted({(r["test_set"], r["snr_db"]) for r in rows},
                  key=lambda s: (s[1] != "", s[0], float(s[1]) if s[1] else 0.0))
    systems = list(dict.fromkeys(r["system"] for r in rows))
    value = {(r["system"], r["test_set"], r["snr_db"]): float(r[metric]) for r in rows}
    label = lambda s: s[0] if s[1] == "" else f"{s[0]} {float(s[1]):g} dB"
    lines = [f"{metric.replace('_', ' ')} (%), lower is better", "",
             "| system | " + " | ".join(label(s) for s in sets) + " |",
             "|---" * (len(sets) + 1) + "|"]
    for system in systems:
        cells = [f"{value[(system, *s)]:.2f}" if (system, *s) in value else "-" for s in sets]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    for ref in (baseline, conventional):
        if ref not in systems:
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


def select_on_dev(candidates, link):
    """Point ``link`` (a symlink) at the candidate with the lowest dev error
    (ties: lower dev loss); write the choice to ``<link>.selection.json``."""
    scores = {c: dev_score(c) for c in candidates}
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
    with open(link + ".selection.json", "w", encoding="utf-8") as f:
        json.dump({"chosen": best, "dev_scores": scores}, f, indent=2)
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
