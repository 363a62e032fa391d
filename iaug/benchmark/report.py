"""The benchmark report, from the committed seeds alone:

    python3 -m iaug.benchmark.report RESULTS_DIR [--rows benchmark_rows.yaml]

(in ``egs/gsc_qut/kws``: the rows file is read from the current folder by
default). Writes ``RESULTS_DIR/report.md`` and an error-against-SNR figure
per front-end from every ``RESULTS_DIR/<front-end>/seed<N>/`` that
:mod:`iaug.benchmark.collect` wrote, and prints the report. Per front-end:
the verdict (:func:`iaug.stats.verdict`), the error table, ImportantAug
tested against every row, the dev choices, training, the mask's own effect,
what the generators learned; for the multi-condition variant also its rows
against the main protocol's of the same seeds (``benchmark/`` beside it).
"""

import argparse
import glob
import os
import re
import sys
from collections import defaultdict

from iaug.benchmark.rows import dev_chosen, read_rows, variant_rows
from iaug.benchmark.tables import (ci, error_rate, error_table, fmt_p, noisy_mean, pooled_mcnemar, read_seed,
                                   reduction_tables, seed_stats, snr_figure, snr_text)
from iaug.scoring import atomic_write, relative_reduction
from iaug.stats import ALPHA, WIN_REDUCTION, mean_ci, outcome, paired_t, verdict

FOCUS = "importantaug"  # the row the verdict is about; "noise" is conventional noise
MAIN = "benchmark"      # the main protocol's results folder, beside a variant's
FRONTENDS = {"paper": "the paper's unnormalised dB",
             "stable": "dB floored 80 dB below each utterance's peak, input normalised per utterance"}
NOISY = "noisy mean"  # the per-seed mean over the noisy test sets


def matched_snr_section(seeds, seed_dirs, value, per_seed_noisy, decisions_of, noisy, rows):
    """The mask's own effect: ImportantAug against plain noise at the same SNR.
    The rows differ in their dev-chosen SNRs as well as in the mask; these
    pairs differ in the mask alone: every stage-B candidate against the
    conventional-noise candidate of the same SNR on the dev sets (from the dev
    sweep), and on the test sets the paper's -12.5 dB row against Null
    ImportantAug (the all-ones mask at -12.5 dB). In the multi-condition
    variant every row draws its SNR from the same range: the pair is
    ImportantAug and conventional noise themselves, on the test sets."""
    legend = ("Error rate (%), mean ± 95 % CI over seeds; Δ = with mask minus without (negative: the mask "
              "helps); t: paired t test over seeds.")
    multi = seeds[seed_dirs[0]][0].get("snr_range")
    if multi is not None:
        masked, plain, pair_snr = "importantaug", "noise", snr_text(multi)
        intro = ("ImportantAug and conventional noise draw their noise from the same SNR range "
                 f"({pair_snr} dB): on the test sets they differ in the mask alone. ")
    else:
        masked, plain, pair_snr = "importantaug_paper", "null_importantaug", "-12.5"
        intro = ("The rows above differ in their dev-chosen SNR as well as in the mask. Here only the mask "
                 "differs: ImportantAug's stage-B candidates against the conventional-noise candidate of the "
                 "same SNR (dev sets: clean dev, and the mean over clean dev and dev in the training noise "
                 "types at every test SNR, each set weighing the same; no test set is used), and on the test "
                 "sets the paper's -12.5 dB row against Null ImportantAug (the all-ones mask at -12.5 dB). ")
    md = ["", "### The mask's own effect: the same SNR with and without the generator's mask", "",
          intro + legend, "",
          "| SNR (dB) | sets | with mask | plain noise | Δ | seeds where the mask helps | t p |",
          "|---|---|---|---|---|---|---|"]
    snrs = sorted({float(name[len("importantaug_snr"):]) for d in seed_dirs
                   for name in seeds[d][0].get("dev_scores", {}) if name.startswith("importantaug_snr")})
    scores = [seeds[d][0]["dev_scores"] for d in seed_dirs]
    for snr in snrs:
        tag = f"{snr:g}"
        pairs = [(sc.get(f"importantaug_snr{tag}"), sc.get(f"noise_snr{tag}")) for sc in scores]
        pairs = [(a, b) for a, b in pairs if a and b]
        if not pairs:
            continue
        for label, pick in (("clean dev", lambda s: s["dev"]),
                            ("clean + noisy dev", lambda s: sum(s.values()) / len(s))):
            a, b = [pick(x) for x, _ in pairs], [pick(y) for _, y in pairs]
            diff, p = paired_t(a, b)
            md.append(f"| {tag} | {label} | {ci(a)} | {ci(b)} | {diff:+.2f} | "
                      f"{sum(x < y for x, y in zip(a, b))} of {len(a)} | {fmt_p(p)} |")
    if masked in rows and plain in rows:
        for label, group, per_seed in (
                ("test (clean)", ["test"], {d: (value[(d, masked, "test")],
                                               value[(d, plain, "test")]) for d in seed_dirs}),
                ("test, noisy mean", noisy, {d: (per_seed_noisy[(d, masked)],
                                                per_seed_noisy[(d, plain)]) for d in seed_dirs})):
            a, b = [per_seed[d][0] for d in seed_dirs], [per_seed[d][1] for d in seed_dirs]
            diff, p = paired_t(a, b)
            only_a, only_b, p_mc = pooled_mcnemar(decisions_of, seed_dirs, masked, plain, group)
            md.append(f"| {pair_snr} | {label} | {ci(a)} | {ci(b)} | {diff:+.2f} | "
                      f"{sum(x < y for x, y in zip(a, b))} of {len(a)} | {fmt_p(p)} "
                      f"(McNemar {only_a} / {only_b}, p = {fmt_p(p_mc)}) |")
    return md


def frontend_section(table, fe, folder, out_dir):
    """The report's section of front-end ``fe``: its committed seeds in ``folder``."""
    seed_dirs = sorted(glob.glob(os.path.join(folder, "seed*")),
                       key=lambda d: int(re.sub(r"\D", "", os.path.basename(d)) or 0))
    seed_dirs = [d for d in seed_dirs if os.path.isfile(os.path.join(d, "seed.json"))]
    if not seed_dirs:
        return []
    seeds = {}
    for d in seed_dirs:
        seeds[d] = read_seed(d)
    first = seeds[seed_dirs[0]][0]
    keys = first["test_sets"]
    multi = first.get("snr_range")
    for d in seed_dirs:
        if seeds[d][0]["test_sets"] != keys:
            sys.exit(f"report: {d} has other test sets than {seed_dirs[0]}")
        if seeds[d][0].get("snr_range") != multi:  # one report, one setting
            sys.exit(f"report: {d} was trained with SNR range {seeds[d][0].get('snr_range')}, "
                     f"{seed_dirs[0]} with {multi}: keep each in a results folder of its own")
    # a seed may lack rows added since, and a variant's seed hold rows it has since dropped
    rows = [r for r, _ in variant_rows(table, multi) if all((r, "test") in seeds[d][2] for d in seed_dirs)]
    # ImportantAug itself under another dev choice: shown and tested, but not a
    # rival in the verdict (the same method; often the very same system)
    arm = {r.name: r.arm for r in table}
    same_method = [r.name for r in table if r.arm == arm.get(FOCUS) and r.name != FOCUS]
    noisy = [k for k in keys if k != "test"]
    value = {}
    for d in seed_dirs:
        for (row, k), dec in seeds[d][2].items():
            value[(d, row, k)] = error_rate(dec)
    per_seed_noisy = {(d, r): sum(value[(d, r, k)] for k in noisy) / len(noisy) for d in seed_dirs for r in rows}
    value.update({(d, r, NOISY): v for (d, r), v in per_seed_noisy.items()})
    stats = seed_stats(value, seed_dirs, rows, keys + [NOISY])
    n = len(seed_dirs)
    names = ", ".join(os.path.basename(d)[4:] for d in seed_dirs)

    def decisions_of(d, row, k):
        return seeds[d][2].get((row, k))

    md = [f"## Front-end `{fe}`: {FRONTENDS.get(fe, fe)}", "",
          f"Seeds: {names} (n = {n}). Preset `{first['preset']}`: the baseline from scratch for "
          f"{first['baseline']['number_of_epochs']} epochs (patience {first['baseline']['patience']}); "
          f"every arm from the seed's baseline and the generator against it, at most "
          f"{first['max_epochs']} epochs, stopped after {first['patience']} epoch(s) without a better "
          "dev loss (best dev-loss epoch kept). Test utterances per set: "
          + ", ".join(f"{k} {first['num_utts'][k]}" for k in keys) + "."
          + ("" if multi is None else
             f" Multi-condition variant: the generator (stage A) and every row but the baseline "
             f"trained with one SNR per utterance drawn from {snr_text(multi)} dB; no dev choice."),
          "", corpus_builds(seeds, seed_dirs)]

    # verdict
    tests = {}
    for r in rows:
        if r == FOCUS:
            continue
        for measure, group in (("clean", ["test"]), ("noisy", noisy)):
            a_only, b_only, p_mc = pooled_mcnemar(decisions_of, seed_dirs, FOCUS, r, group)
            if measure == "clean":
                fa = [value[(d, FOCUS, "test")] for d in seed_dirs]
                fb = [value[(d, r, "test")] for d in seed_dirs]
            else:
                fa = [per_seed_noisy[(d, FOCUS)] for d in seed_dirs]
                fb = [per_seed_noisy[(d, r)] for d in seed_dirs]
            diff, p_t = paired_t(fa, fb)
            tests[(r, measure)] = (diff, a_only, b_only, p_mc, p_t, outcome(diff, p_mc, p_t, n))
    md += ["", "### Verdict", ""]
    if FOCUS in rows:
        rivals = [r for r in rows if r != FOCUS and r not in same_method]
        clean_red = relative_reduction(stats[(FOCUS, "test")][0], stats[("noise", "test")][0]) \
            if "noise" in rows else float("nan")
        noisy_means = {r: noisy_mean(stats, r, noisy) for r in rows}
        lowest = min([FOCUS] + rivals, key=lambda r: noisy_means[r])
        said = verdict(clean_red, tests.get(("noise", "clean"), (0,) * 6)[5], lowest == FOCUS,
                       [tests[(r, "noisy")][5] for r in rivals], n)
        why = [f"clean-error reduction against conventional noise {clean_red:+.1f} % "
               f"({'significant' if tests.get(('noise', 'clean'), (0,) * 6)[5] != 'tie' else 'not significant'}; "
               f"a win needs >= {WIN_REDUCTION:g} % and significant)",
               f"noisy mean {noisy_means[FOCUS]:.2f} % against the lowest other "
               f"`{min(rivals, key=lambda r: noisy_means[r])}` "
               f"{min(noisy_means[r] for r in rivals):.2f} % "
               f"(significant wins on the noisy mean against {sum(tests[(r, 'noisy')][5] == 'win' for r in rivals)}"
               f" of {len(rivals)} rows)"]
        md.append(f"ImportantAug (`{FOCUS}`) {said} on front-end `{fe}`: " + "; ".join(why) + ".")
        md.append("")
        for measure, label in (("clean", "clean test"), ("noisy", "noisy mean")):
            by = defaultdict(list)
            for r in rivals:
                by[tests[(r, measure)][5]].append(f"`{r}`")
            md.append(f"- {label}: wins against {', '.join(by['win']) or 'none'}; ties with "
                      f"{', '.join(by['tie']) or 'none'}; loses to {', '.join(by['lose']) or 'none'}.")
        md += ["", f"A win: lower error, significant (p < {ALPHA:g}) by the exact McNemar test "
               "pooled over seeds" + (" and by the paired t test over seeds" if n > 1 else
                                      " (one seed: no test over seeds)")
               + "; a loss: the same with higher error; anything else a tie. ImportantAug wins "
               f"outright with >= {WIN_REDUCTION:g} % relative clean-error reduction against "
               "conventional noise (significant) and the lowest noisy-mean error of all rows, "
               "significantly below each. Not counted as rivals: "
               + ", ".join(f"`{r}`" for r in same_method) + " (ImportantAug under another dev choice)."]

    labels = {r: f"{r} ({how})" if how != "-" else r for r, how in variant_rows(table, multi)}
    md += ["", "### Error rate (%)", "",
           "Mean ± 95 % CI half-width over seeds (t distribution; `n` = seeds where one). Rows "
           "and how each was chosen (dev choices never use the test noise types):", "",
           *error_table(stats, rows, keys, labels, noisy_key=NOISY)]
    md += ["", "Per seed: clean test and noisy mean (error rate, %), how far the seeds spread:", "",
           "| row | " + " | ".join(f"seed {seeds[d][0]['seed']}: clean | seed {seeds[d][0]['seed']}: noisy mean"
                                  for d in seed_dirs) + " |", "|---" * (1 + 2 * n) + "|"]
    for r in rows:
        md.append(f"| {r} | " + " | ".join(f"{value[(d, r, 'test')]:.2f} | {per_seed_noisy[(d, r)]:.2f}"
                                            for d in seed_dirs) + " |")
    md += reduction_tables(stats, rows, keys, noisy_column=True)

    md += ["", f"### Tests: `{FOCUS}` against every row", "",
           "Δ: mean error of `importantaug` minus the row's (percentage points, negative = "
           "ImportantAug better); McNemar: utterances only ImportantAug / only the row got right, "
           "pooled over seeds (noisy: every noisy set); t: paired t test over seeds on per-seed "
           "errors (noisy: the per-seed noisy mean).", "",
           "| row | clean Δ | clean McNemar | clean t p | clean | noisy Δ | noisy McNemar | noisy t p | noisy |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r == FOCUS:
            continue
        cells = []
        for measure in ("clean", "noisy"):
            diff, a_only, b_only, p_mc, p_t, out = tests[(r, measure)]
            cells += [f"{diff:+.2f}", f"{a_only} / {b_only}, p = {fmt_p(p_mc)}", fmt_p(p_t), out]
        md.append(f"| {r} | " + " | ".join(cells) + " |")

    if first["dev_choices"]:
        md += dev_choice_table(table, seeds, seed_dirs)
    md += training_table(table, seeds, seed_dirs, rows, n)
    md += matched_snr_section(seeds, seed_dirs, value, per_seed_noisy, decisions_of, noisy, rows)
    if multi is not None:
        md += main_protocol_section(table, fe, seeds, seed_dirs, value, per_seed_noisy, decisions_of, keys, out_dir)
    md += generator_section(seeds, seed_dirs, fe, out_dir, first, n)
    snr_figure(stats, rows, noisy, os.path.join(out_dir, f"{fe}_snr.png"))
    md += ["", f"![error against SNR, {fe}]({fe}_snr.png)", ""]
    return md


def corpus_builds(seeds, seed_dirs):
    """Which seeds read the same build of the corpus (timing.json's audio hash)."""
    builds = defaultdict(list)
    for d in seed_dirs:
        t = seeds[d][1]
        cpu = (t.get("machine") or {}).get("torch_cpu_capability")
        builds[t.get("corpus_sha256")].append(os.path.basename(d)[4:] + (f" ({cpu})" if cpu else ""))
    named = [f"`{h[:12]}` seeds {', '.join(s)}" for h, s in builds.items() if h]
    unknown = builds.get(None)
    return ("Corpus builds (sha256 of the audio the manifests list; torch's CPU kernels in brackets: two "
            "builds of the same corpus differ in bytes where those differ, and so do the systems): "
            + "; ".join(named + ([f"not recorded: seeds {', '.join(unknown)}"] if unknown else [])) + ".")


def main_protocol_section(table, fe, seeds, seed_dirs, value, per_seed_noisy, decisions_of, keys, out_dir):
    """The multi-condition variant against the main protocol's rows of the
    same seeds and front-end (``MAIN`` beside the variant's folder): the
    baselines must be the same systems (same decisions), and the variant's
    ImportantAug is tested against every main row."""
    main_dir = os.path.join(os.path.dirname(os.path.abspath(out_dir)), MAIN, fe)
    pairs = {d: os.path.join(main_dir, os.path.basename(d)) for d in seed_dirs}
    pairs = {d: m for d, m in pairs.items() if os.path.isfile(os.path.join(m, "seed.json"))}
    md = ["", "### Against the main protocol's rows (the same seeds)", ""]
    if not pairs:
        return md + [f"No seed of these in `{MAIN}/{fe}/` beside this folder: nothing to compare."]
    main_seeds = {d: read_seed(m) for d, m in pairs.items()}
    main = {d: main_seeds[d][2] for d in pairs}
    ds = list(pairs)
    noisy = [k for k in keys if k != "test"]
    same = sum(main[d][("baseline", k)] == decisions_of(d, "baseline", k) for d in ds for k in keys)
    known = [d for d in ds if seeds[d][1].get("corpus_sha256") and main_seeds[d][1].get("corpus_sha256")]
    same_build = sum(seeds[d][1]["corpus_sha256"] == main_seeds[d][1]["corpus_sha256"] for d in known)
    md += [f"Seeds {', '.join(os.path.basename(d)[4:] for d in ds)} of `{MAIN}/{fe}/`. The baseline "
           "has the same seed and settings in both, so on the same build of the corpus it is the same system: "
           f"right and wrong on the same utterances in {same} of the {len(ds) * len(keys)} (seed, test set) "
           f"pairs; the same corpus build in {same_build} of the {len(known)} seeds where both record it "
           f"(not recorded: {len(ds) - len(known)}). `multi:` rows are this variant's. Error rate "
           "(%), mean ± 95 % CI over these seeds; ImportantAug of this variant against each row: McNemar "
           "pooled over seeds (only it / only the row right) and paired t over seeds.", "",
           "| row | clean | noisy mean | clean: McNemar | clean: t p | noisy: McNemar | noisy: t p |",
           "|---|---|---|---|---|---|---|"]

    def of(d, row, k):
        return main[d].get((row[5:], k)) if row.startswith("main:") else decisions_of(d, row[6:], k)

    # the variant's own rows against the main protocol's (less those that are the same systems)
    own = [r.name for r in table if r.multi == "range"]
    main_rows = [r.name for r in table if r.multi != "same" and all((r.name, "test") in main[d] for d in ds)]
    for row in [f"multi:{r}" for r in own] + [f"main:{r}" for r in main_rows]:
        clean = [error_rate(of(d, row, "test")) for d in ds]
        noisy_avg = [sum(error_rate(of(d, row, k)) for k in noisy) / len(noisy) for d in ds]
        cells = [row, ci(clean), ci(noisy_avg)]
        if row == f"multi:{FOCUS}":
            cells += ["-"] * 4
        else:
            focus_clean = [value[(d, FOCUS, "test")] for d in ds]
            focus_noisy = [per_seed_noisy[(d, FOCUS)] for d in ds]
            for group, a, b in ((["test"], focus_clean, clean), (noisy, focus_noisy, noisy_avg)):
                only_a, only_b, p = pooled_mcnemar(of, ds, f"multi:{FOCUS}", row, group)
                cells += [f"{only_a} / {only_b}, p = {fmt_p(p)}", fmt_p(paired_t(a, b)[1])]
        md.append("| " + " | ".join(cells) + " |")
    return md


def dev_choice_table(table, seeds, seed_dirs):
    choices = dev_chosen(table)
    md = ["", "### Dev choices", "",
           "Clean dev: the paper's (lowest clean dev error of the best checkpoint). Clean+noisy dev: "
           "lowest mean error over the clean dev set and the dev set mixed with the training noise "
           "types at each test SNR (each set weighs the same). Chosen system per seed:", "",
           "| seed | " + " | ".join(f"{c}: clean | {c}: clean+noisy" for c in choices) + " |",
           "|---" * (1 + 2 * len(choices)) + "|"]
    for d in seed_dirs:
        ch = seeds[d][0]["dev_choices"]
        md.append(f"| {seeds[d][0]['seed']} | " + " | ".join(
            f"{ch[c]['clean']['chosen']} | {ch[c]['clean+noisy']['chosen']}" for c in choices) + " |")
    return md


def training_table(table, seeds, seed_dirs, rows, n):
    swept = {r.name: r.arm for r in table if r.dev}  # a row chosen on dev: its whole sweep
    md = ["", "### Training", "",
           "Epochs trained (mean over seeds, min–max; `*`: some seed reached the maximum without "
           "stopping early), the best (kept) epoch, and wall time of the row's system and of its "
           "whole dev sweep (min, mean over seeds; ImportantAug rows also need the generator).", "",
           "| row | system(s) | epochs | best epoch | wall (min) | with sweep (min) |", "|---|---|---|---|---|---|"]

    def sweep_of(record, row):
        if swept.get(row) in record["dev_choices"]:
            return list(record["dev_choices"][swept[row]]["clean"]["scores"])
        return [record["rows"][row]["system"]]

    for r in rows + ["generator"]:
        ep, best, wall, wall_sweep, names_ = [], [], [], [], set()
        hit = False
        for d in seed_dirs:
            record, timing, _ = seeds[d]
            system = "generator" if r == "generator" else record["rows"][r]["system"]
            names_.add(system)
            s = record["systems"].get(system, {})
            ep.append(s.get("epochs", 0))
            best.append(s.get("best_epoch") or 0)
            hit = hit or s.get("hit_max", False)
            w = timing.get("wall_s", {})
            if system in w:
                wall.append(w[system] / 60)
            sw = [w[c] for c in (sweep_of(record, r) if r != "generator" else [system]) if c in w]
            if sw:
                wall_sweep.append(sum(sw) / 60)
        shown = ", ".join(sorted(names_)) if len(names_) <= 2 else f"{len(names_)} different"
        md.append(f"| {r} | {shown} | {sum(ep) / n:.1f} ({min(ep)}–{max(ep)}){'*' if hit else ''} | "
                  f"{sum(best) / n:.1f} | {sum(wall) / len(wall) if wall else float('nan'):.1f} | "
                  f"{sum(wall_sweep) / len(wall_sweep) if wall_sweep else float('nan'):.1f} |")
    runs = [seeds[d][1].get("run_wall_s") for d in seed_dirs
            if seeds[d][1].get("run_wall_s") and not seeds[d][1].get("resumed")]
    resumed = [os.path.basename(d)[4:] for d in seed_dirs if seeds[d][1].get("resumed")]
    if runs:
        md += ["", f"Whole run of one seed on this front-end (training, dev and test scoring): "
               f"{sum(runs) / len(runs) / 60:.0f} min on average ({min(runs) / 60:.0f}–{max(runs) / 60:.0f})"
               + (f"; seed(s) {', '.join(resumed)}, resumed after a stop, left out." if resumed else ".")]
    return md


def generator_section(seeds, seed_dirs, fe, out_dir, first, n):
    reports = [seeds[d][0]["generator"] for d in seed_dirs]
    md = ["", "### What the generator learned", "",
           f"Dev set, dev noise (training noise types) at {snr_text(reports[0]['snr_db'])} dB, the seed's frozen "
           "baseline: mean mask (1 = noise let through), share of the unmasked noise energy the mask "
           "lets through, and the baseline's accuracy (%) on clean, unmasked-noise and masked-noise "
           "input (same noise draws and gain).", "", "| measure | mean ± 95 % CI |", "|---|---|"]
    keys = ["mean_mask", "mask_speech", "mask_other", "noise_energy_share", "acc_clean",
            "acc_unmasked_noise", "acc_masked_noise"]
    for key in [k for k in keys if all(k in rep for rep in reports)]:
        m, h = mean_ci([rep[key] for rep in reports])
        md.append(f"| {key} | {m:.3f}" + (f" ± {h:.3f} |" if n > 1 else " |"))
    if all("mask_speech" in rep for rep in reports):
        lower = sum(rep["mask_speech"] < rep["mask_other"] for rep in reports)
        md += ["", f"Mask on the speech bins (within 40 dB of the clip's loudest bin) lower than "
               f"elsewhere: {lower} of {len(reports)} seeds."]

    png = os.path.join(fe, os.path.basename(seed_dirs[0]), "importance_maps.png")
    if os.path.isfile(os.path.join(out_dir, png)):
        md += ["", f"Importance maps of seed {first['seed']}'s generator (front-end `{fe}`):", "",
               f"![importance maps, {fe}]({png})"]
    return md


def report(args):
    """``report.md`` (and the figures) of ``args.results_dir`` from its committed seeds."""
    out_dir = args.results_dir
    table = read_rows(args.rows)
    fes = [fe for fe in FRONTENDS if os.path.isdir(os.path.join(out_dir, fe))]
    fes += sorted(d for d in os.listdir(out_dir) if d not in FRONTENDS
                  and glob.glob(os.path.join(out_dir, d, "seed*", "seed.json"))) if os.path.isdir(out_dir) else []
    recipe = os.path.dirname(os.path.abspath(args.rows))  # the rows file is the recipe's
    shown = os.path.relpath(out_dir, recipe) if os.path.abspath(out_dir).startswith(recipe + os.sep) \
        else "RESULTS_DIR"
    md = ["# ImportantAug benchmark", "",
          f"Made by `python3 -m iaug.benchmark.report {shown}` (in `egs/gsc_qut/kws`) from the "
          "committed per-seed decisions only (`<front-end>/seed<N>/`). Error rate: % of test "
          "utterances with the wrong keyword. Test sets: the clean test split (`test`) and the "
          "same utterances mixed with the test noise types at each SNR (dB)."]
    sections = []
    for fe in fes:
        sections += frontend_section(table, fe, os.path.join(out_dir, fe), out_dir)
    if not sections:
        sys.exit(f"report: no committed seed in {out_dir}/<front-end>/seed*/seed.json: "
                 "run benchmark.sh first")
    md += ["", *sections]
    atomic_write(os.path.join(out_dir, "report.md"), "\n".join(md))
    print("\n".join(md))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_dir")
    ap.add_argument("--rows", default="benchmark_rows.yaml", help="the rows file (default: %(default)s)")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.results_dir):
        sys.exit(f"report: {args.results_dir} is not a folder")
    report(args)


if __name__ == "__main__":
    main()
