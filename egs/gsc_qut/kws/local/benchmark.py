"""The benchmark report's tables over seeds (local/benchmark_v2.py uses
them): mean and 95 % CI per row and test set, relative error reductions,
exact McNemar tests pooled over seeds, what a seed's generator learned, the
error-against-SNR figure."""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from iaug.scoring import relative_reduction  # noqa: E402
from iaug.stats import mcnemar, mean_ci  # noqa: E402



def set_key(row):
    return row["test_set"] if row["snr_db"] == "" else f"{row['test_set']}_snr{row['snr_db']}"


def training_snr(folder):
    """The stage-A SNR (or SNR range) in the hyperparams.yaml SpeechBrain saved in ``folder``."""
    from iaug.recipe import saved_hparams

    snr = saved_hparams(folder).get("snr_db")
    if snr is None:
        sys.exit(f"{folder}/hyperparams.yaml has no top-level snr_db: pass --snr_db")
    return [float(x) for x in snr] if isinstance(snr, list) else float(snr)


def snr_text(snr_db):
    """An SNR or an SNR range (one SNR per utterance drawn in it), for the text."""
    return f"{snr_db[0]:g} to {snr_db[1]:g}" if isinstance(snr_db, (list, tuple)) else f"{snr_db:g}"


def decisions(seed_dir, system, key):
    """{utterance: right?} from iaug-eval's saved decisions, or None where there are none."""
    from iaug.evaluate import read_decisions

    path = os.path.join(seed_dir, system, "eval", f"{key}.csv")
    return read_decisions(path) if os.path.isfile(path) else None


def sort_set_keys(keys):
    """Clean ``test`` first, then the noisy sets by SNR."""
    return sorted(keys, key=lambda k: (k != "test", float(k.rsplit("snr", 1)[1]) if "snr" in k else 0.0))


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


def generator_lines(name, snr_db, reports):
    """Markdown: what a generator learned, mean ± CI over seeds' reports."""
    md = ["", f"What `{name}` learned (dev set, dev noise at {snr_text(snr_db)} dB, frozen "
          f"baseline of the same seed; mean ± 95 % CI over {len(reports)} seeds)", "",
          "| measure | value |", "|---|---|"]
    for key in [k for k in ("mean_mask", "mask_speech", "mask_other", "noise_energy_share",
                            "acc_clean", "acc_unmasked_noise", "acc_masked_noise")
                if all(k in r for r in reports)]:
        m, h = mean_ci([r[key] for r in reports])
        md.append(f"| {key} | {m:.3f} ± {h:.3f} |" if len(reports) > 1 else f"| {key} | {m:.3f} |")
    return md


class GeneratorAnalysis:
    """What a seed's generators learned (:func:`iaug.analysis.generator_report`):
    dev set, dev noise (the training noise types), the seed's frozen baseline."""

    def __init__(self, data_dir):
        from iaug.mixing import NoiseBank  # torch and SpeechBrain: only where a generator is analysed

        self.data_dir = data_dir
        self.bank = NoiseBank.from_csv(os.path.join(data_dir, "manifests", "noise_dev.csv"))
        self.baselines = {}

    def report(self, seed_dir, name, snr_db=None):
        """(report dict, SNR) of generator ``<seed_dir>/<name>`` (default SNR:
        the one it was trained at)."""
        from iaug.analysis import generator_report
        from iaug.dataio import audio_dataset
        from iaug.evaluate import System, generator_with_frontend

        if seed_dir not in self.baselines:
            self.baselines[seed_dir] = System("baseline", os.path.join(seed_dir, "baseline")).load_best()
        base = self.baselines[seed_dir]
        gen, stft = generator_with_frontend(os.path.join(seed_dir, name))
        if snr_db is None:
            snr_db = training_snr(os.path.join(seed_dir, name))
        dev = audio_dataset(os.path.join(self.data_dir, "manifests", "dev.csv"), base.task)
        return generator_report(stft, base.brain.modules.recognizer, base.task, gen, dev,
                                self.bank, snr_db), snr_db


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
