#!/usr/bin/env python3
"""The benchmark (benchmark.sh): the noisy dev set, a
finished seed's committed results, and the report made from them alone.

    benchmark_v2.py noisy_dev --data_dir D --out DIR
    benchmark_v2.py collect --exp_dir E --data_dir D --out R/<frontend>/seed<N> \\
        --frontend F --seed N --preset P [--snr_range "[low, high]"]
    benchmark_v2.py report R            # R = results/bench_v2: every committed seed

``noisy_dev``: the dev clips mixed with the *training* noise types (the
held-out training-noise clips, ``noise_dev.csv``) at the SNRs of the noisy
test sets, for the dev choices; the test noise types are never used for any
choice. ``collect``: what the report needs of one finished seed and front-end,
from its experiment folder, into ``--out``: ``decisions.csv.gz`` (every row's
hypothesis on every test utterance; gzip without a time stamp, so the same
decisions give the same bytes), ``seed.json`` (rows, dev choices both ways,
epochs trained, what the generator learned; same bytes on a rerun on the
same machine and threads), ``timing.json`` (wall time per system; differs
between runs) and ``importance_maps.png``. ``report``: ``R/report.md`` (and
an error-against-SNR figure per front-end) from those files only.
"""

import argparse
import csv
import glob
import gzip
import io
import json
import os
import platform
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # local/benchmark.py
RECIPE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The rows of the v2 table: (row, how the row's system was chosen). benchmark.sh
# trains and links them (a row's folder in the seed's experiment folder).
ROWS = [
    ("baseline", "-"),
    ("noise", "SNR on clean+noisy dev"),
    ("noise_cleandev", "SNR on clean dev, the paper's choice"),
    ("sb_augment", "-"),
    ("specaugment", "-"),
    ("null_importantaug", "-"),
    ("importantaug", "stage-B SNR on clean+noisy dev"),
    ("importantaug_cleandev", "stage-B SNR on clean dev, the paper's choice"),
    ("importantaug_paper", "-12.5 dB, the paper's"),
    ("binarized", "q on clean+noisy dev"),
    ("binarized_cleandev", "q on clean dev, the paper's choice"),
    ("importantaug_specaugment", "stage-B SNR of `importantaug`"),
]
# The multi-condition variant (benchmark.sh --snr_range): the rows that differ
# from ImportantAug in the mask alone or not at all, every noise drawn at one
# SNR per utterance from the range, the generator trained likewise. Null
# ImportantAug is not among them: at the same range it is conventional noise
# itself (the all-ones mask; its decisions were identical, multi seed 1)
MULTI_ROWS = ["baseline", "noise", "importantaug"]
FOCUS = "importantaug"
# ImportantAug itself under another dev choice: shown and tested, but not a
# rival in the verdict (the same method; often the very same system)
SAME_METHOD = ("importantaug_cleandev", "importantaug_paper")
CHOICES = ("noise", "importantaug", "binarized")  # rows chosen on dev both ways
FRONTENDS = {"paper": "the paper's unnormalised dB",
             "stable": "dB floored 80 dB below each utterance's peak, input normalised per utterance"}
NOISY = "noisy mean"  # the per-seed mean over the noisy test sets


def r4(x):
    return None if x is None else round(float(x), 4)


# ---------------------------------------------------------------- noisy dev

def noisy_dev(args):
    import numpy as np

    from iaug.data.audio import read_mono
    from iaug.data.download import sha256_of
    from iaug.data.noisy_sets import make_noisy_sets
    from iaug.data.steps import step
    from iaug.scoring import atomic_open, test_set_name

    manifests = Path(args.data_dir) / "manifests"
    dev_csv, noise_csv = manifests / "dev.csv", manifests / "noise_dev.csv"
    for f in (dev_csv, noise_csv):
        if not f.is_file():
            sys.exit(f"noisy_dev: {f} missing: run the data stages (run.sh --stop_stage 1) first")
    snrs = sorted({test_set_name(str(p))[1] for p in (manifests / "noisy").glob("*.csv")} - {None})
    if not snrs:
        sys.exit(f"noisy_dev: no noisy test sets in {manifests}/noisy: their SNRs are the dev set's")
    clean_root = (Path(args.data_dir) / "speech_commands").resolve()
    with open(dev_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    outside = [r["wav"] for r in rows if not Path(r["wav"]).resolve().is_relative_to(clean_root)]
    if outside:
        sys.exit(f"noisy_dev: {dev_csv} lists {outside[0]}, outside {clean_root} "
                 f"({len(outside)} such rows): rebuild the manifests (run.sh --stage 1 --stop_stage 1)")
    rel = {r["ID"]: Path(r["wav"]).resolve().relative_to(clean_root).as_posix() for r in rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def build():
        with open(noise_csv, newline="", encoding="utf-8") as f:
            clips = [read_mono(r["wav"], 16000)[0] for r in csv.DictReader(f)]
        make_noisy_sets(clean_root, list(rel.values()), np.concatenate(clips), out / "audio", "dev",
                        snrs, args.seed, args.nj)
        for snr in snrs:
            tag = f"dev_snr{snr:g}"
            with atomic_open(out / f"{tag}.csv") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                for r in rows:
                    wav = out.resolve() / "audio" / tag / Path(rel[r["ID"]]).with_suffix(".wav")
                    writer.writerow({**r, "wav": str(wav)})

    params = {"dev": sha256_of(dev_csv), "noise": sha256_of(noise_csv), "snrs": snrs, "seed": args.seed}
    step(out, "noisy_dev", params, [out / "audio"] + [out / f"dev_snr{s:g}.csv" for s in snrs], build)
    print(" ".join(str(out / f"dev_snr{s:g}.csv") for s in snrs))


# ---------------------------------------------------------------- collect

def train_log(folder):
    """[(epoch, valid loss)] of a system's train_log.txt."""
    epochs = []
    with open(os.path.join(folder, "train_log.txt"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"epoch: (\d+),.*valid loss: ([^,\s]+)", line)
            if m:
                epochs.append((int(m.group(1)), float(m.group(2))))
    return epochs


def system_record(folder, max_epochs):
    """Epochs trained, best epoch (lowest dev loss: the one kept) and its dev scores."""
    epochs = train_log(folder)
    best = min(epochs, key=lambda e: e[1])[0] if epochs else None
    rec = {"epochs": len(epochs), "best_epoch": best, "hit_max": len(epochs) >= max_epochs}
    summary = os.path.join(folder, "summary.json")
    if os.path.isfile(summary):
        with open(summary, encoding="utf-8") as f:
            dev = json.load(f).get("best_dev") or {}
        rec.update(dev_loss=r4(dev.get("loss")), dev_error=r4(dev.get("error_rate")))
    return rec


def selection(path):
    with open(path, encoding="utf-8") as f:
        sel = json.load(f)
    return {"chosen": os.path.basename(sel["chosen"]), "criterion": sel.get("criterion", "clean dev error"),
            "scores": {os.path.basename(k): [r4(v[0]), r4(v[1])] for k, v in sel["dev_scores"].items()}}


def gzip_bytes(text):
    """gzip of ``text`` with no time stamp or file name: same text, same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(text.encode("utf-8"))
    return buf.getvalue()


def write_if_changed(path, data, changed):
    """Write ``data`` (bytes) whole; note in ``changed`` a file that was there with other bytes."""
    from iaug.scoring import atomic_write_bytes

    if os.path.isfile(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
        changed.append(path)
    atomic_write_bytes(path, data)


def importance_png(generator, test_csv, where):
    """Bytes of a small PNG of the generator's maps of two test utterances
    (iaug-plot's figure, 3/4 size, in a 48-colour palette: ~10x smaller)."""
    from PIL import Image

    from iaug.cli.report import importance_figure

    tmp = f"{where}.tmp{os.getpid()}.png"
    try:
        importance_figure(generator, test_csv, tmp, num=2)
        buf = io.BytesIO()
        with Image.open(tmp) as im:
            small = im.convert("RGB").resize((im.width * 3 // 4, im.height * 3 // 4), Image.Resampling.LANCZOS)
            small.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
                .save(buf, format="PNG", optimize=True)
        return buf.getvalue()
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def preset_settings(preset_file):
    from iaug.recipe import read_preset

    preset = read_preset(preset_file)
    per_file = preset.get("per_file", {})
    return {"preset": os.path.basename(preset_file),
            "max_epochs": preset.get("number_of_epochs"), "patience": preset.get("patience"),
            "baseline": {k: per_file.get("baseline", {}).get(k, preset.get(k))
                         for k in ("number_of_epochs", "patience")},
            "generator": {k: per_file.get("generator", {}).get(k, preset.get(k))
                          for k in ("number_of_epochs", "patience")}}


def provenance(data_dir):
    """What a rerun must share with a seed to give its bytes: the corpus's audio
    (two builds of it differ in bytes where torch's CPU kernels differ) and
    the machine's CPU kernels."""
    import torch

    from iaug.data.steps import content_sha256

    folder = os.path.join(data_dir, "manifests")
    manifests = sorted(glob.glob(os.path.join(folder, "*.csv")) + glob.glob(os.path.join(folder, "noisy", "*.csv")))
    cpu = platform.processor()
    if os.path.isfile("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    return {"corpus_sha256": content_sha256(manifests, data_dir),
            "machine": {"cpu": cpu, "torch": torch.__version__,
                        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}}


def row_choices(snr_range):
    """[(row, how it was chosen)] of the main protocol, or of the multi-condition
    variant with its SNR range [low, high]."""
    if snr_range is None:
        return ROWS
    how = f"SNR per utterance from {snr_range[0]:g} to {snr_range[1]:g} dB"
    return [(r, "-" if r == "baseline" else how) for r in MULTI_ROWS]


def collect(args):
    import yaml

    from benchmark import GeneratorAnalysis, set_key, sort_set_keys
    from iaug.mixing import snr_range
    from iaug.scoring import read_results

    exp = args.exp_dir
    results = os.path.join(exp, "results.csv")
    if not os.path.isfile(results):
        sys.exit(f"collect: {results} missing: score the rows first (benchmark.sh)")
    multi = None
    if args.snr_range is not None:
        try:
            multi = list(snr_range(yaml.safe_load(args.snr_range)))
        except (ValueError, yaml.YAMLError):
            sys.exit(f"collect: --snr_range is [low, high] in dB with low <= high (got {args.snr_range!r})")
    choices = row_choices(multi)
    rows = [r for r, _ in choices]
    missing = [r for r in rows if not os.path.isdir(os.path.join(exp, r))]
    if missing:
        sys.exit(f"collect: {exp} lacks row(s) {', '.join(missing)}: the seed has not finished")
    scored = read_results(results)
    keys = sort_set_keys(list(dict.fromkeys(set_key(r) for r in scored if r["system"] in rows)))
    settings = preset_settings(args.preset)

    # decisions: one line per (set, utterance), one hypothesis column per row
    refs, hyps = {}, defaultdict(dict)
    for row in rows:
        for k in keys:
            path = os.path.join(exp, row, "eval", f"{k}.csv")
            if not os.path.isfile(path):
                sys.exit(f"collect: {path} missing: score {row} on {k} first")
            with open(path, newline="", encoding="utf-8") as f:
                for d in csv.DictReader(f):
                    if refs.setdefault((k, d["ID"]), d["reference"]) != d["reference"]:
                        sys.exit(f"collect: {path}: {d['ID']} has another reference than in other rows")
                    hyps[(k, d["ID"])][row] = d["hypothesis"]
    out_csv = io.StringIO()
    writer = csv.writer(out_csv, lineterminator="\n")
    writer.writerow(["ID", "set", "reference", *rows])
    for k in keys:
        for uid in sorted(u for kk, u in refs if kk == k):
            h = hyps[(k, uid)]
            if len(h) != len(rows):
                sys.exit(f"collect: {uid} on {k} is not scored for every row")
            writer.writerow([uid, k, refs[(k, uid)], *(h[r] for r in rows)])

    # the systems behind the rows (links resolved), the candidates, the generator
    folders = sorted({os.path.basename(os.path.realpath(os.path.join(exp, r))) for r in rows}
                     | {os.path.basename(p) for p in glob.glob(os.path.join(exp, "*"))
                        if not os.path.islink(p) and os.path.isfile(os.path.join(p, ".done"))})
    max_epochs = settings["max_epochs"]
    systems = {}
    for name in folders:
        limit = settings[name]["number_of_epochs"] if name in ("baseline", "generator") else max_epochs
        systems[name] = system_record(os.path.join(exp, name), limit)
    wall = {}
    for name in folders:
        path = os.path.join(exp, name, "wall_s")
        if os.path.isfile(path):
            wall[name] = float(open(path).read())
    dev_choices = {}
    for name in CHOICES if multi is None else ():
        dev_choices[name] = {"clean": selection(os.path.join(exp, f"{name}_cleandev.selection.json")),
                             "clean+noisy": selection(os.path.join(exp, f"{name}.selection.json"))}
    dev_scores = {}
    dev_csv = os.path.join(exp, "dev_results.csv")
    if os.path.isfile(dev_csv):
        for r in read_results(dev_csv):
            dev_scores.setdefault(r["system"], {})[set_key(r)] = r4(r["value"])

    analysis = GeneratorAnalysis(args.data_dir)
    report, snr_db = analysis.report(exp, "generator")
    generator = {k: r4(v) if isinstance(v, float) else v for k, v in report.items()}
    generator["snr_db"] = snr_db

    record = {
        "protocol": "v2", "frontend": args.frontend, "seed": args.seed, **settings,
        "test_sets": keys,
        "num_utts": {k: sum(1 for kk, _ in refs if kk == k) for k in keys},
        "rows": {r: {"system": os.path.basename(os.path.realpath(os.path.join(exp, r))), "dev_choice": how}
                 for r, how in choices},
        "systems": systems,
        "dev_choices": dev_choices,
        "dev_scores": dev_scores,
        "generator": generator,
    }
    if multi is not None:  # the main protocol's records keep their bytes
        record["snr_range"] = multi
    os.makedirs(args.out, exist_ok=True)
    changed = []
    write_if_changed(os.path.join(args.out, "decisions.csv.gz"), gzip_bytes(out_csv.getvalue()), changed)
    write_if_changed(os.path.join(args.out, "seed.json"),
                     (json.dumps(record, indent=1, sort_keys=True) + "\n").encode(), changed)
    timing_json = os.path.join(args.out, "timing.json")
    timing = {"wall_s": wall, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
              "cpu_count": os.cpu_count(), "run_wall_s": args.run_wall_s, **provenance(args.data_dir)}
    old = {}
    if os.path.isfile(timing_json):
        with open(timing_json, encoding="utf-8") as f:
            old = json.load(f)
    if args.resumed:  # run_wall_s is then the last part's time only
        timing["resumed"] = True
    elif old.get("wall_s") == wall:  # a rerun that trained nothing keeps the run's time
        timing.update({k: old[k] for k in ("run_wall_s", "resumed") if k in old})
    from iaug.scoring import atomic_write
    atomic_write(timing_json, json.dumps(timing, indent=1, sort_keys=True) + "\n")
    png = os.path.join(args.out, "importance_maps.png")
    write_if_changed(png, importance_png(os.path.join(exp, "generator"),
                                         os.path.join(args.data_dir, "manifests", "test.csv"), png), changed)
    why = [f"{k} {old[k]} there, {timing[k]} here" for k in ("corpus_sha256", "machine")
           if old.get(k) is not None and old[k] != timing[k]]
    for path in changed:
        print(f"collect: {path} differs from the one there before (replaced)"
              + (f": {'; '.join(why)}" if why else ""))
    print(f"collect: seed {args.seed}, front-end {args.frontend} -> {args.out}"
          + ("" if changed else " (any files there before: same bytes)"))


# ---------------------------------------------------------------- report

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
    from iaug.stats import mean_ci

    m, h = mean_ci(values)
    return f"{m:.2f}" + ("" if h != h else f" ± {h:.2f}")


def fmt_p(p):
    return "-" if p != p else f"{p:.3g}"


def matched_snr_section(seeds, seed_dirs, value, per_seed_noisy, decisions_of, noisy, rows):
    """The mask's own effect: ImportantAug against plain noise at the same SNR.
    The rows differ in their dev-chosen SNRs as well as in the mask; these
    pairs differ in the mask alone: every stage-B candidate against the
    conventional-noise candidate of the same SNR on the dev sets (from the dev
    sweep), and on the test sets the paper's -12.5 dB row against Null
    ImportantAug (the all-ones mask at -12.5 dB). In the multi-condition
    variant every row draws its SNR from the same range: the pair is
    ImportantAug and conventional noise themselves, on the test sets."""
    from benchmark import pooled_mcnemar, snr_text
    from iaug.stats import paired_t

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


def frontend_section(fe, folder, out_dir):
    from benchmark import (error_table, noisy_mean, pooled_mcnemar, reduction_tables, seed_stats, snr_figure,
                           snr_text)
    from iaug.stats import ALPHA, WIN_REDUCTION, outcome, paired_t, verdict
    from iaug.scoring import relative_reduction

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
    rows = [r for r, _ in ROWS if all((r, "test") in seeds[d][2] for d in seed_dirs)
            and (multi is None or r in MULTI_ROWS)]  # a variant's seed may hold rows it has since dropped
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
        rivals = [r for r in rows if r != FOCUS and r not in SAME_METHOD]
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
               + ", ".join(f"`{r}`" for r in SAME_METHOD) + " (ImportantAug under another dev choice)."]

    labels = {r: f"{r} ({how})" if how != "-" else r for r, how in row_choices(multi)}
    md += ["", "### Error rate (%)", "",
           f"Mean ± 95 % CI half-width over seeds (t distribution; `n` = seeds where one). Rows "
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
        md += dev_choice_table(seeds, seed_dirs)
    md += training_table(seeds, seed_dirs, rows, n)
    md += matched_snr_section(seeds, seed_dirs, value, per_seed_noisy, decisions_of, noisy, rows)
    if multi is not None:
        md += main_protocol_section(fe, seeds, seed_dirs, value, per_seed_noisy, decisions_of, keys, out_dir)
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


def main_protocol_section(fe, seeds, seed_dirs, value, per_seed_noisy, decisions_of, keys, out_dir):
    """The multi-condition variant against the main protocol's rows of the
    same seeds and front-end (``bench_v2`` beside the variant's folder): the
    baselines must be the same systems (same decisions), and the variant's
    ImportantAug is tested against every main row."""
    from benchmark import pooled_mcnemar
    from iaug.stats import paired_t

    main_dir = os.path.join(os.path.dirname(os.path.abspath(out_dir)), "bench_v2", fe)
    pairs = {d: os.path.join(main_dir, os.path.basename(d)) for d in seed_dirs}
    pairs = {d: m for d, m in pairs.items() if os.path.isfile(os.path.join(m, "seed.json"))}
    md = ["", "### Against the main protocol's rows (the same seeds)", ""]
    if not pairs:
        return md + [f"No seed of these in `bench_v2/{fe}/` beside this folder: nothing to compare."]
    main_seeds = {d: read_seed(m) for d, m in pairs.items()}
    main = {d: main_seeds[d][2] for d in pairs}
    ds = list(pairs)
    noisy = [k for k in keys if k != "test"]
    same = sum(main[d][("baseline", k)] == decisions_of(d, "baseline", k) for d in ds for k in keys)
    known = [d for d in ds if seeds[d][1].get("corpus_sha256") and main_seeds[d][1].get("corpus_sha256")]
    same_build = sum(seeds[d][1]["corpus_sha256"] == main_seeds[d][1]["corpus_sha256"] for d in known)
    md += [f"Seeds {', '.join(os.path.basename(d)[4:] for d in ds)} of `bench_v2/{fe}/`. The baseline "
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

    main_rows = [r for r, _ in ROWS if r != "baseline" and all((r, "test") in main[d] for d in ds)]
    for row in [f"multi:{r}" for r in MULTI_ROWS[1:]] + [f"main:{r}" for r in main_rows]:
        clean = [error_rate(of(d, row, "test")) for d in ds]
        noisy_mean = [sum(error_rate(of(d, row, k)) for k in noisy) / len(noisy) for d in ds]
        cells = [row, ci(clean), ci(noisy_mean)]
        if row == f"multi:{FOCUS}":
            cells += ["-"] * 4
        else:
            focus_clean = [value[(d, FOCUS, "test")] for d in ds]
            focus_noisy = [per_seed_noisy[(d, FOCUS)] for d in ds]
            for group, a, b in ((["test"], focus_clean, clean), (noisy, focus_noisy, noisy_mean)):
                only_a, only_b, p = pooled_mcnemar(of, ds, f"multi:{FOCUS}", row, group)
                cells += [f"{only_a} / {only_b}, p = {fmt_p(p)}", fmt_p(paired_t(a, b)[1])]
        md.append("| " + " | ".join(cells) + " |")
    return md


def dev_choice_table(seeds, seed_dirs):
    md = ["", "### Dev choices", "",
           "Clean dev: the paper's (lowest clean dev error of the best checkpoint). Clean+noisy dev: "
           "lowest mean error over the clean dev set and the dev set mixed with the training noise "
           "types at each test SNR (each set weighs the same). Chosen system per seed:", "",
           "| seed | " + " | ".join(f"{c}: clean | {c}: clean+noisy" for c in CHOICES) + " |",
           "|---" * (1 + 2 * len(CHOICES)) + "|"]
    for d in seed_dirs:
        ch = seeds[d][0]["dev_choices"]
        md.append(f"| {seeds[d][0]['seed']} | " + " | ".join(
            f"{ch[c]['clean']['chosen']} | {ch[c]['clean+noisy']['chosen']}" for c in CHOICES) + " |")
    return md


def training_table(seeds, seed_dirs, rows, n):
    md = ["", "### Training", "",
           "Epochs trained (mean over seeds, min–max; `*`: some seed reached the maximum without "
           "stopping early), the best (kept) epoch, and wall time of the row's system and of its "
           "whole dev sweep (min, mean over seeds; ImportantAug rows also need the generator).", "",
           "| row | system(s) | epochs | best epoch | wall (min) | with sweep (min) |", "|---|---|---|---|---|---|"]

    def sweep_of(record, row):
        base = row.split("_cleandev")[0]
        if base in record["dev_choices"]:
            return list(record["dev_choices"][base]["clean"]["scores"])
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
    from benchmark import snr_text
    from iaug.stats import mean_ci

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
    out_dir = args.results_dir
    fes = [fe for fe in FRONTENDS if os.path.isdir(os.path.join(out_dir, fe))]
    fes += sorted(d for d in os.listdir(out_dir) if d not in FRONTENDS
                  and glob.glob(os.path.join(out_dir, d, "seed*", "seed.json"))) if os.path.isdir(out_dir) else []
    shown = os.path.relpath(out_dir, RECIPE) if os.path.abspath(out_dir).startswith(RECIPE + os.sep) \
        else "RESULTS_DIR"
    md = ["# ImportantAug benchmark", "",
          f"Made by `python3 local/benchmark_v2.py report {shown}` (in `egs/gsc_qut/kws`) from the "
          "committed per-seed decisions only (`<front-end>/seed<N>/`). Error rate: % of test "
          "utterances with the wrong keyword. Test sets: the clean test split (`test`) and the "
          "same utterances mixed with the test noise types at each SNR (dB)."]
    sections = []
    for fe in fes:
        sections += frontend_section(fe, os.path.join(out_dir, fe), out_dir)
    if not sections:
        sys.exit(f"report: no committed seed in {out_dir}/<front-end>/seed*/seed.json: "
                 "run benchmark.sh first")
    md += ["", *sections]
    from iaug.scoring import atomic_write

    atomic_write(os.path.join(out_dir, "report.md"), "\n".join(md))
    print("\n".join(md))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    nd = sub.add_parser("noisy_dev", help="dev clips + training noise types at the test SNRs")
    nd.add_argument("--data_dir", required=True)
    nd.add_argument("--out", required=True)
    nd.add_argument("--seed", type=int, default=1234)
    nd.add_argument("--nj", type=int, default=2)
    c = sub.add_parser("collect", help="a finished seed's committed files")
    c.add_argument("--exp_dir", required=True)
    c.add_argument("--data_dir", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--frontend", required=True)
    c.add_argument("--seed", type=int, required=True)
    c.add_argument("--preset", required=True, help="the training preset file")
    c.add_argument("--run_wall_s", type=float, help="wall time of the whole run (timing.json)")
    c.add_argument("--resumed", action="store_true",
                   help="the run trained the rest of a seed stopped before: --run_wall_s is its last part only")
    c.add_argument("--snr_range", help="the multi-condition variant's SNR range, \"[low, high]\"")
    r = sub.add_parser("report", help="report.md from the committed seeds")
    r.add_argument("results_dir")
    args = ap.parse_args(argv)
    if args.cmd == "report" and not os.path.isdir(args.results_dir):
        sys.exit(f"report: {args.results_dir} is not a folder")
    {"noisy_dev": noisy_dev, "collect": collect, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
