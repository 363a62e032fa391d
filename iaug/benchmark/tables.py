"""The benchmark report's tables over seeds: a committed seed's decisions,
mean and 95 % CI per row and test set, relative error reductions, exact
McNemar tests pooled over seeds, the error-against-SNR figure."""

import csv
import gzip
import json
import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from iaug.scoring import relative_reduction  # noqa: E402
from iaug.stats import mcnemar, mean_ci  # noqa: E402


def read_seed(folder):
    """(seed.json, timing.json or {}, {(row, set): {utterance: right?}}) of a committed seed."""
    with open(os.path.join(folder, "seed.json"), encoding="utf-8") as f:
        record = json.load(f)
    timing = {}
    if os.path.isfile(os.path.join(folder, "timing.json")):
        with open(os.path.join(folder, "timing.json"), encoding="utf-8") as f:
            timing = json.load(f)
    decisions = defaultdict(dict)
    with gzip.open(os.path.join(folder, "decisions.csv.gz"), "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = header[3:]
        for line in reader:
            uid, key, ref = line[:3]
            for row, hyp in zip(rows, line[3:]):
                decisions[(row, key)][uid] = hyp == ref
    return record, timing, decisions


def error_rate(decisions):
    """% wrong of {utterance: right?}."""
    return 100.0 * sum(not v for v in decisions.values()) / len(decisions)


def ci(values):
    """Mean ± 95 % CI half-width over seeds, as the tables show it (no ± for one seed)."""
    m, h = mean_ci(values)
    return f"{m:.2f}" + ("" if h != h else f" ± {h:.2f}")


def fmt_p(p):
    """A p-value as the tables show it (- where there is none)."""
    return "-" if p != p else f"{p:.3g}"


def snr_text(snr_db):
    """An SNR or an SNR range (one SNR per utterance drawn in it), for the text."""
    return f"{snr_db[0]:g} to {snr_db[1]:g}" if isinstance(snr_db, (list, tuple)) else f"{snr_db:g}"


def seed_stats(value, seeds, systems, keys):
    """{(system, set): (mean, CI half-width, n)} of ``value[(seed, system, set)]``."""
    stats = {}
    for s in systems:
        for k in keys:
            vals = [value[(d, s, k)] for d in seeds if (d, s, k) in value]
            if vals:
                stats[(s, k)] = (*mean_ci(vals), len(vals))
    return stats


def noisy_mean(stats, system, noisy):
    """Mean over the noisy sets of the per-set means."""
    return sum(stats[(system, k)][0] for k in noisy if (system, k) in stats) / max(1, len(noisy))


def error_table(stats, systems, keys, labels=None, noisy_key=None):
    """Markdown table: mean ± CI per set, and the noisy mean (``noisy_key``:
    the key of ``stats`` holding the per-seed noisy means, shown with their CI)."""
    labels = labels or {}
    md = ["| system | " + " | ".join(keys) + " | noisy mean |", "|---" * (len(keys) + 2) + "|"]
    noisy = [k for k in keys if k != "test"]

    def cell(s, k):
        m, h, n = stats.get((s, k), (float("nan"),) * 3)
        return f"{m:.2f} ± {h:.2f}" if n == n and n > 1 else f"{m:.2f} (n={n})"

    for s in systems:
        cells = [cell(s, k) for k in keys]
        cells.append(cell(s, noisy_key) if noisy_key else f"{noisy_mean(stats, s, noisy):.2f}")
        md.append(f"| {labels.get(s, s)} | " + " | ".join(cells) + " |")
    return md


def reduction_tables(stats, systems, keys, refs=("baseline", "noise"), noisy_column=False):
    """Markdown: relative error reduction of the mean against each reference
    row (``noisy_column``: also of the noisy mean)."""
    md = []
    noisy = [k for k in keys if k != "test"]
    for ref in refs:
        if ref not in systems:
            continue
        extra = " noisy mean |" if noisy_column else ""
        md += ["", f"Relative error reduction of the mean against `{ref}` (%, higher is better)", "",
               "| system | " + " | ".join(keys) + " |" + extra,
               "|---" * (len(keys) + 1 + bool(noisy_column)) + "|"]
        for s in systems:
            if s == ref:
                continue
            cells = [f"{relative_reduction(stats[(s, k)][0], stats[(ref, k)][0]):+.1f}"
                     if (s, k) in stats and (ref, k) in stats else "-" for k in keys]
            if noisy_column:
                cells.append(f"{relative_reduction(noisy_mean(stats, s, noisy), noisy_mean(stats, ref, noisy)):+.1f}")
            md.append(f"| {s} | " + " | ".join(cells) + " |")
    return md


def pooled_mcnemar(decisions_of, seeds, a_system, b_system, keys):
    """Exact McNemar test of two rows over every utterance of ``keys`` (test
    sets) of every seed, paired by utterance: (a only right, b only right, p).
    ``decisions_of(seed, system, key)``: {utterance: right?} or None."""
    a, b = [], []
    for d in seeds:
        for k in keys:
            da, db = decisions_of(d, a_system, k), decisions_of(d, b_system, k)
            if da is None or db is None:
                continue
            ids = sorted(da)
            a += [da[i] for i in ids]
            b += [db[i] for i in ids]
    return mcnemar(a, b) if a else (0, 0, float("nan"))


def snr_figure(stats, systems, noisy, out_png):
    """Error against SNR, mean ± CI over seeds, one line per row."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    snrs = [float(k.rsplit("snr", 1)[1]) for k in noisy]
    for s in systems:
        pts = [(x, *stats[(s, k)][:2]) for x, k in zip(snrs, noisy) if (s, k) in stats]
        if pts:
            pts.sort()
            ax.errorbar([p[0] for p in pts], [p[1] for p in pts],
                        yerr=[0 if p[2] != p[2] else p[2] for p in pts], label=s, capsize=2, marker="o", ms=3)
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("error rate (%)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
