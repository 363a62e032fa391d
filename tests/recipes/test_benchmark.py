"""The benchmark: its rows from the one rows file, presets over presets, the
dev choice on clean + noisy dev, the paired test over seeds, the report made
from committed files alone (and its verdict; the committed reports remade
equal), and the tiny protocol end to end: one seed on the paper front-end,
its committed bytes reproduced by a rerun from scratch, and the
multi-condition variant on the stable front-end."""

import csv
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from iaug.benchmark.collect import gzip_bytes, training_snr
from iaug.benchmark.rows import dev_chosen, read_rows, variant_rows
from iaug.benchmark.tables import snr_text
from iaug.hparams import preset_overrides, read_preset, saved_hparams
from iaug.scoring import select_on_dev, table_scores, write_results
from iaug.stats import paired_t

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KWS = os.path.join(ROOT, "egs", "gsc_qut", "kws")
ROWS_FILE = os.path.join(KWS, "benchmark_rows.yaml")
TABLE = read_rows(ROWS_FILE)
ROWS = [r for r, _ in variant_rows(TABLE)]
MULTI_ROWS = [r for r, _ in variant_rows(TABLE, [-12.5, 15.0])]
ENV = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def module(name, *args, **kwargs):
    """``python3 -m iaug.benchmark.<name> ARGS`` of this checkout."""
    return subprocess.run([sys.executable, "-m", f"iaug.benchmark.{name}", *args], capture_output=True,
                          text=True, env=ENV, **kwargs)


def report(results_dir, **kwargs):
    return module("report", str(results_dir), "--rows", ROWS_FILE, **kwargs)


def test_rows_for_the_shell_and_run_sh():
    """The lines benchmark.sh trains from, and the arms run.sh trains
    (stage 8) and scores (stage 9, in stage order)."""
    lines = module("rows", ROWS_FILE, check=True).stdout.splitlines()
    assert [line.split()[0] for line in lines] == ROWS
    assert "noise noise choose clean+noisy snr_db snr_candidates snr" in lines
    assert "binarized_cleandev binarized choose clean q q_candidates q" in lines
    assert "importantaug_paper importantaug set snr_db -12.5 importantaug_snr-12.5" in lines
    assert "importantaug_specaugment importantaug_specaugment like snr_db importantaug importantaug_snr" in lines
    assert module("rows", ROWS_FILE, "--multi", check=True).stdout.splitlines() == [
        "baseline baseline train", "noise noise range", "importantaug importantaug range"]
    assert module("rows", ROWS_FILE, "--arms", check=True).stdout.split() == [
        "baseline", "noise", "importantaug", "null_importantaug", "binarized", "sb_augment", "specaugment",
        "importantaug_specaugment"]
    assert module("rows", ROWS_FILE, "--arms", "--stage", "8", check=True).stdout.split() == [
        "sb_augment", "specaugment", "importantaug_specaugment"]
    assert dev_chosen(TABLE) == ["noise", "importantaug", "binarized"]
    # the rows are listed nowhere else (noise and importantaug are words of the logs too)
    named = [r for r in ROWS if r not in ("baseline", "noise", "importantaug")]
    for script, rows in (("benchmark.sh", named), ("run.sh", ["sb_augment", "specaugment"])):
        with open(os.path.join(KWS, script), encoding="utf-8") as f:
            code = [line.split("#")[0] for line in f]
        assert [r for r in rows if any(re.search(rf"\b{r}\b", line) for line in code)] == [], script


@pytest.mark.parametrize("entry, message", [
    ("noise_typo: {arm: noise, dve: clean}", "row noise_typo: unknown key dve"),
    ("extra: {arm: specaugment_x}", "row extra: no arm file"),
    ("extra: {arm: generator}", "row extra: arm generator has no row of its own"),
    ("extra: {arm: null_importantaug, dev: clean}", "row extra: dev and set need a sweep of arm null_importantaug"),
    ("extra: {arm: noise, dev: both}", "row extra: dev is clean or clean+noisy"),
    ("extra: {arm: noise, set: {q: 5}}", "row extra: set names q, the sweep of noise is over snr_db"),
    ("extra: {arm: importantaug, like: {snr_db: baseline}}", "like: baseline is no row chosen on dev"),
    ("extra: {arm: noise, stage: 3}", "stage and sweep belong on the row named after its arm (noise)"),
    ("extra: [1", "not valid yaml"),
])
def test_a_bad_rows_file_is_one_line(tmp_path, entry, message):
    shutil.copytree(os.path.join(KWS, "hparams"), tmp_path / "hparams")
    with open(ROWS_FILE, encoding="utf-8") as f:
        (tmp_path / "rows.yaml").write_text(f.read() + entry + "\n")
    proc = module("rows", str(tmp_path / "rows.yaml"))
    assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "rows.yaml" in proc.stderr


def test_preset_over_a_base_preset(tmp_path):
    (tmp_path / "a.yaml").write_text("number_of_epochs: 8\nbatch_size: 64\nper_file:\n"
                                     "    baseline: {number_of_epochs: 8, patience: 8}\n"
                                     "    noise: {snr_candidates: [5, 15]}\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nnumber_of_epochs: 3\npatience: 1\nper_file:\n"
                                     "    noise: {patience: 2}\n    generator: {number_of_epochs: 3}\n")
    merged = read_preset(str(tmp_path / "b.yaml"))
    assert merged["number_of_epochs"] == 3 and merged["batch_size"] == 64 and merged["patience"] == 1
    assert merged["per_file"]["noise"] == {"snr_candidates": [5, 15], "patience": 2}
    assert merged["per_file"]["baseline"] == {"number_of_epochs": 8, "patience": 8}
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    with pytest.raises(SystemExit, match="loops back"):
        read_preset(str(tmp_path / "b.yaml"))


def test_bench_presets_same_rule_for_every_arm():
    hp = os.path.join(KWS, "hparams")
    for preset in ("bench", "bench_tiny"):
        p = os.path.join(hp, "presets", f"{preset}.yaml")
        arms = {arm: preset_overrides(p, os.path.join(hp, f"{arm}.yaml"))
                for arm in [r.arm for r in TABLE if r.arm == r.name != "baseline"] + ["generator"]}
        assert len(arms) == 8
        rules = {(o["number_of_epochs"], o["patience"]) for o in arms.values()}
        assert len(rules) == 1, (preset, arms)
        assert -12.5 in arms["importantaug"]["snr_candidates"]


def test_training_snr_reads_an_snr_or_a_range(tmp_path):
    for name, text, snr, shown in (("one", "snr_db: -12.5\n", -12.5, "-12.5"),
                                   ("range", "snr_db:\n- -12.5\n- 15\n", [-12.5, 15.0], "-12.5 to 15")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "hyperparams.yaml").write_text(
            text + "noise_mixer: !new:iaug.mixing.NoiseMixer\n    snr_db: !ref <snr_db>\n")
        assert training_snr(str(tmp_path / name)) == snr
        assert snr_text(snr) == shown
    with pytest.raises(SystemExit, match="no top-level snr_db: pass --snr_db"):
        training_snr(str(tmp_path))


def fake_system(folder, dev_error, dev_loss):
    os.makedirs(folder)
    with open(os.path.join(folder, "summary.json"), "w") as f:
        json.dump({"best_dev": {"error_rate": dev_error, "loss": dev_loss}}, f)
    return str(folder)


def test_choice_on_clean_and_noisy_dev(tmp_path):
    a = fake_system(tmp_path / "ia_snr-12.5", 5.0, 0.3)   # best on clean dev ...
    b = fake_system(tmp_path / "ia_snr15", 6.0, 0.4)      # ... this one with noise
    rows = [{"system": s, "test_set": "dev", "snr_db": snr, "error_rate": e, "num_utts": 10}
            for s, snr, e in (("ia_snr-12.5", "", 5.0), ("ia_snr-12.5", "0", 60.0),
                              ("ia_snr15", "", 6.0), ("ia_snr15", "0", 40.0))]
    write_results(str(tmp_path / "dev.csv"), rows)
    assert table_scores(str(tmp_path / "dev.csv"), [a, b]) == {a: (32.5, 0.3), b: (23.0, 0.4)}
    assert select_on_dev([a, b], str(tmp_path / "clean"))[0] == a
    link = str(tmp_path / "noisy")
    chosen, _ = select_on_dev([a, b], link, table_scores(str(tmp_path / "dev.csv"), [a, b]), "both")
    assert chosen == b and os.path.realpath(link) == os.path.realpath(b)
    assert json.load(open(link + ".selection.json"))["criterion"] == "both"
    cli = subprocess.run([sys.executable, "-m", "iaug.scoring", "select", "--table", str(tmp_path / "nope.csv"),
                          link, a, b], capture_output=True, text=True)
    assert cli.returncode != 0 and "nope.csv" in cli.stderr and "Traceback" not in cli.stderr


def test_paired_t_over_seeds():
    diff, p = paired_t([10.0, 11.0, 12.0, 10.5, 11.5], [15.0, 15.5, 17.0, 16.0, 15.0])
    assert diff == pytest.approx(-4.7) and p < 0.01
    assert paired_t([1.0], [2.0])[1] != paired_t([1.0], [2.0])[1]  # one seed: NaN


def write_fake_seed(folder, seed, wrong, snr_range=None, rows=None, corpus=None):
    """A committed seed in collect's format; ``wrong[row](i, set)``: is
    utterance i of that set wrong for that row. ``snr_range``: a seed of the
    multi-condition variant (its rows, no dev choice). ``rows``: the decision
    columns, if not the protocol's rows; ``corpus``: the corpus build's hash
    in timing.json."""
    os.makedirs(folder)
    rows = rows or (ROWS if snr_range is None else MULTI_ROWS)
    sets = ["test", "qut_snr0", "qut_snr20"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["ID", "set", "reference", *rows])
    for k in sets:
        for i in range(200):
            w.writerow([f"u{i:03d}", k, "yes", *("no" if wrong[r](i, k) else "yes" for r in rows)])
    with open(os.path.join(folder, "decisions.csv.gz"), "wb") as f:
        f.write(gzip_bytes(out.getvalue()))
    choice = {"chosen": "x", "criterion": "c", "scores": {"x": [1.0, 0.1], "y": [2.0, 0.2]}}
    record = {"protocol": "v2", "frontend": "paper", "seed": seed, "preset": "bench.yaml", "max_epochs": 3,
              "patience": 1, "baseline": {"number_of_epochs": 8, "patience": 8},
              "generator": {"mean_mask": 0.5, "noise_energy_share": 0.3, "acc_clean": 90.0,
                            "acc_unmasked_noise": 20.0, "acc_masked_noise": 60.0, "num_utts": 10,
                            "snr_db": -12.5},
              "test_sets": sets, "num_utts": {k: 200 for k in sets},
              "rows": {r: {"system": r, "dev_choice": how} for r, how in variant_rows(TABLE, snr_range)},
              "systems": {r: {"epochs": 2, "best_epoch": 1, "hit_max": False} for r in rows + ["generator"]},
              "dev_choices": {c: {"clean": choice, "clean+noisy": choice} for c in dev_chosen(TABLE)},
              "dev_scores": {"importantaug_snr5": {"dev": 10.0, "dev_snr0": 30.0},
                             "noise_snr5": {"dev": 12.0 + seed, "dev_snr0": 30.0}}}
    if snr_range is not None:
        record.update(snr_range=snr_range, dev_choices={}, dev_scores={})
        record["generator"]["snr_db"] = snr_range
    with open(os.path.join(folder, "seed.json"), "w") as f:
        json.dump(record, f)
    with open(os.path.join(folder, "timing.json"), "w") as f:
        json.dump({"wall_s": {r: 60.0 for r in rows}, "run_wall_s": 3600,
                   **({"corpus_sha256": corpus, "machine": {"torch_cpu_capability": "AVX2"}} if corpus else {})}, f)


def test_report_verdict_from_committed_files(tmp_path):
    results = tmp_path / "benchmark"
    # ImportantAug clearly best everywhere on `paper`; no different from the others on `stable`
    good = {r: (lambda i, k, s=0: i < 40 + 5 * (k != "test")) for r in ROWS}
    good["importantaug"] = lambda i, k: i < 10
    same = {r: (lambda i, k: i < 40) for r in ROWS}
    for seed in (1, 2, 3, 4, 5):
        write_fake_seed(results / "paper" / f"seed{seed}", seed,
                        {r: (lambda i, k, f=f, seed=seed: f((i + seed) % 200, k)) for r, f in good.items()},
                        corpus="ab" * 32 if seed < 3 else "cd" * 32)
        if seed <= 3:
            write_fake_seed(results / "stable" / f"seed{seed}", seed, same)
    # paper seed 5 resumed after a stop: its run time (the last part's) is not a whole run's
    (results / "paper" / "seed5" / "timing.json").write_text(
        json.dumps({"wall_s": {r: 60.0 for r in ROWS}, "run_wall_s": 600, "resumed": True}))
    out = report(str(results))
    assert out.returncode == 0, out.stderr
    md = (results / "report.md").read_text()
    assert "ImportantAug (`importantaug`) **wins** on front-end `paper`" in md
    assert ("ImportantAug (`importantaug`) **does not lead** (not decided: 3 of the 5 seeds a verdict "
            "needs) on front-end `stable`") in md
    paper = md.split("## Front-end `stable`")[0]
    assert "- clean test: wins against `baseline`, `noise`" in paper
    assert "Seeds: 1, 2, 3, 4, 5 (n = 5)" in paper
    assert ("torch's CPU kernels in brackets: two builds of the same corpus differ in bytes where those differ, "
            "and so do the systems): `abababababab` seeds 1 (AVX2), 2 (AVX2); `cdcdcdcdcdcd` seeds 3 (AVX2), "
            "4 (AVX2); not recorded: seeds 5.") in paper
    assert ("Whole run of one seed on this front-end (training, dev and test scoring): 60 min on average "
            "(60–60); seed(s) 5, resumed after a stop, left out.") in paper
    # the same lead on fewer seeds is not yet a verdict
    few = tmp_path / "few"
    for seed in (1, 2, 3):
        shutil.copytree(results / "paper" / f"seed{seed}", few / "paper" / f"seed{seed}")
    report(str(few), check=True)
    assert ("ImportantAug (`importantaug`) **leads** (not decided: 3 of the 5 seeds a verdict needs) "
            "on front-end `paper`") in (few / "report.md").read_text()
    # the mask alone: the same SNR with and without it (dev sweep; -12.5 dB rows on test)
    assert "| 5 | clean dev | 10.00 ± 0.00 | 15.00 ± 1.96 | -5.00 | 5 of 5 | 0.00211 |" in paper
    assert "| 5 | clean + noisy dev | 20.00 ± 0.00 | 22.50 ± 0.98 | -2.50 | 5 of 5 |" in paper
    assert "| -12.5 | test (clean) | 20.00 ± 0.00 | 20.00 ± 0.00 | +0.00 | 0 of 5 | 1 (McNemar 0 / 0, p = 1) |" in paper
    # per seed: clean test, then the noisy mean
    assert "| importantaug | " + " | ".join(["5.00 | 5.00"] * 5) + " |" in paper
    assert "| baseline | " + " | ".join(["20.00 | 22.50"] * 5) + " |" in paper
    table = paper.split("### Error rate (%)")[1].split("\n\n")[2].splitlines()
    assert [line.split(" | ")[0][2:].split(" (")[0] for line in table[2:]] == ROWS
    # the same files, the same report
    again = tmp_path / "copy"
    shutil.copytree(results, again)
    os.remove(again / "report.md")
    report(str(again), check=True)
    assert (again / "report.md").read_text() == md


def test_multi_condition_report_from_committed_files(tmp_path):
    """The multi-condition variant's seeds: its three rows with the range in
    their labels (a row a seed holds beyond them, Null ImportantAug of the
    first committed seed, is left out), the mask's own effect on the test sets
    (ImportantAug against conventional noise, the same range), no dev-choice
    table; a seed of another setting in the same folder is named, never mixed
    in."""
    results = tmp_path / "benchmark_multi"
    wrong = {"baseline": lambda i, k: i < 40, "noise": lambda i, k: i < 30 + 5 * (k != "test"),
             "null_importantaug": lambda i, k: i < 100, "importantaug": lambda i, k: i < 20}
    for seed in (1, 2, 3, 4, 5):
        write_fake_seed(results / "paper" / f"seed{seed}", seed,
                        {r: (lambda i, k, f=f, seed=seed: f((i + seed) % 200, k)) for r, f in wrong.items()},
                        snr_range=[-12.5, 15.0],
                        rows=[*MULTI_ROWS, "null_importantaug"] if seed == 1 else None,
                        corpus="ab" * 32 if seed < 3 else None)
    out = report(str(results))
    assert out.returncode == 0, out.stderr
    md = (results / "report.md").read_text()
    assert "Multi-condition variant: the generator (stage A) and every row but the baseline trained with " \
           "one SNR per utterance drawn from -12.5 to 15 dB; no dev choice." in md
    assert "ImportantAug (`importantaug`) **wins** on front-end `paper`: clean-error reduction against " \
           "conventional noise +33.3 % (significant" in md
    table = md.split("### Error rate (%)")[1].split("\n\n")[2].splitlines()
    assert [line.split(" | ")[0][2:] for line in table[2:]] == [
        "baseline", "noise (SNR per utterance from -12.5 to 15 dB)",
        "importantaug (SNR per utterance from -12.5 to 15 dB)"]
    assert "null_importantaug" not in md
    assert "| -12.5 to 15 | test (clean) | 10.00 ± 0.00 | 15.00 ± 0.00 | -5.00 | 5 of 5 |" in md
    assert "| -12.5 to 15 | test, noisy mean | 10.00 ± 0.00 | 17.50 ± 0.00 | -7.50 | 5 of 5 |" in md
    assert "### Dev choices" not in md and "dev noise (training noise types) at -12.5 to 15 dB" in md
    assert "No seed of these in `benchmark/paper/` beside this folder: nothing to compare." in md
    # beside the main protocol's seeds 1-3 (the same baselines; its ImportantAug at 25 % error)
    for seed in (1, 2, 3):
        main = {r: (lambda i, k: i < 30) for r in ROWS}
        main.update(baseline=wrong["baseline"], importantaug=lambda i, k: i < 50)
        write_fake_seed(tmp_path / "benchmark" / "paper" / f"seed{seed}", seed,
                        {r: (lambda i, k, f=f, seed=seed: f((i + seed) % 200, k)) for r, f in main.items()},
                        corpus="ab" * 32 if seed == 1 else "cd" * 32)
    report(str(results), check=True)
    md = (results / "report.md").read_text()
    assert "Seeds 1, 2, 3 of `benchmark/paper/`. The baseline has the same seed and settings in both, so on " \
           "the same build of the corpus it is the same system: right and wrong on the same utterances in 9 of " \
           "the 9 (seed, test set) pairs; the same corpus build in 1 of the 2 seeds where both record it " \
           "(not recorded: 1)." in md
    assert "| multi:importantaug | 10.00 ± 0.00 | 10.00 ± 0.00 | - | - | - | - |" in md
    assert "| main:importantaug | 25.00 ± 0.00 | 25.00 ± 0.00 | 90 / 0, p = " in md
    assert "| main:noise | 15.00 ± 0.00 | 15.00 ± 0.00 | 30 / 0, p = " in md
    # a main-protocol seed among them: one line naming it
    write_fake_seed(results / "paper" / "seed6", 6, {r: (lambda i, k: i < 40) for r in ROWS})
    out = report(str(results))
    assert out.returncode != 0 and "seed6 was trained with SNR range None" in out.stderr
    assert "Traceback" not in out.stderr


def remade_report(name, tmp_path):
    """The report of the committed folder results/<name>, remade from its
    seeds in a copy; it must be the committed report.md byte for byte, but
    for the command line it names: a copy outside the recipe shows its
    folder as RESULTS_DIR there, put back as results/<name>."""
    committed_dir = os.path.join(KWS, "results", name)
    copy = tmp_path / name
    for fe in os.listdir(committed_dir):
        if os.path.isdir(os.path.join(committed_dir, fe)):
            shutil.copytree(os.path.join(committed_dir, fe), copy / fe)
    out = report(str(copy))
    assert out.returncode == 0, out.stderr
    made = (copy / "report.md").read_text().replace("report RESULTS_DIR", f"report results/{name}")
    with open(os.path.join(committed_dir, "report.md"), encoding="utf-8") as f:
        assert f.read() == made, f"results/{name}/report.md is stale: remake it (python3 -m iaug.benchmark.report)"
    return made


def test_committed_report_is_current_and_results_md_quotes_it(tmp_path):
    """The committed reports (the main protocol's and, once it has seeds, the
    multi-condition variant's) are what their committed seeds give today, and
    the benchmark section of RESULTS.md quotes them: every quoted (``> ``) line there
    is a line of one of them, and the verdict and the mean error table of
    every front-end are quoted (the section opens with the main protocol's),
    so neither can go stale."""
    made = remade_report("benchmark", tmp_path)
    report_lines = set(made.splitlines())
    required = []
    for name in ("benchmark", "benchmark_multi"):
        if name == "benchmark_multi" and not os.path.isdir(os.path.join(KWS, "results", name)):
            continue
        text = made if name == "benchmark" else remade_report(name, tmp_path)
        report_lines |= set(text.splitlines())
        verdicts = [line for line in text.splitlines() if line.startswith("ImportantAug (`importantaug`) **")]
        means = [table.split("\n\n")[1] for table in text.split("### Error rate (%)\n")[1:]]
        assert verdicts and len(means) == len(verdicts) and all(t.startswith("| system |") for t in means)
        required += verdicts + [line for t in means for line in t.splitlines()]
    with open(os.path.join(KWS, "RESULTS.md"), encoding="utf-8") as f:
        section = f.read().split("\n## Benchmark")[1].split("\n## ")[0]
    quoted = [line[2:] for line in section.splitlines() if line.startswith("> ")]
    assert [line for line in quoted if line not in report_lines] == []
    assert [line for line in required if line not in quoted] == []


def committed_files(folder):
    assert sorted(os.listdir(folder)) == ["decisions.csv.gz", "importance_maps.png", "seed.json",
                                          "timing.json"]
    assert sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) < 1_000_000
    with open(os.path.join(folder, "decisions.csv.gz"), "rb") as f:
        assert f.read(8)[4:8] == b"\0\0\0\0"  # gzip without a time stamp


def front_end_section(md, fe):
    assert f"## Front-end `{fe}`" in md
    assert f"on front-end `{fe}`: clean-error reduction against conventional noise" in md


def committed(results, fe):
    folder = os.path.join(results, fe, "seed1")
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in ("decisions.csv.gz", "seed.json", "importance_maps.png")}


@pytest.fixture(scope="module")
def tiny_corpus(tiny_synth, tmp_path_factory):
    """A copy of the session's tiny synth corpus (run.sh stages 0-1 with this
    preset): the benchmark finds stages 0-1 done and writes only its lock's
    pid there, as every run.sh on the folder does; the rest goes to
    --bench_dir and --results_dir."""
    return str(shutil.copytree(tiny_synth, tmp_path_factory.mktemp("bench") / "data", symlinks=True))


@pytest.mark.slow
def test_benchmark_tiny_one_seed(tmp_path, tiny_corpus):
    """Seed 1 on the paper front-end (run B, its seeds in the background
    with --nj 2) and, at the same time, the same seed from scratch in another
    experiment folder (run A): A's committed files must be B's bytes. The
    stable front-end's run: the multi-condition test."""
    data = tiny_corpus
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["bash", os.path.join(KWS, "benchmark.sh"), "--preset", "tiny",
            "--seeds", "1", "--data_dir", data]
    runs = {}
    for name, nj in (("a", "1"), ("b", "2")):
        out = open(tmp_path / f"{name}.log", "w")
        runs[name] = (subprocess.Popen([*args, "--frontends", "paper", "--nj", nj,
                                        "--bench_dir", str(tmp_path / f"bench_{name}"),
                                        "--results_dir", str(tmp_path / f"results_{name}")],
                                       stdout=out, stderr=subprocess.STDOUT, env=env), out)
    for name, (proc, out) in runs.items():
        proc.wait(timeout=1500)
        out.close()
        assert proc.returncode == 0, (tmp_path / f"{name}.log").read_text()[-4000:]
    results, results_a = str(tmp_path / "results_b"), str(tmp_path / "results_a")
    folder = os.path.join(results, "paper", "seed1")
    committed_files(folder)
    files = committed(results, "paper")
    lines = gzip.decompress(files["decisions.csv.gz"]).decode().splitlines()
    assert lines[0].split(",") == ["ID", "set", "reference", *ROWS]
    assert len(lines) == 1 + 8 * 35  # clean + 7 noisy test sets of 35 utterances
    record = json.loads(files["seed.json"])
    assert record["frontend"] == "paper" and record["max_epochs"] == 1 and record["patience"] == 1
    assert record["rows"]["importantaug_paper"]["system"] == "importantaug_snr-12.5"
    for name in ("noise", "importantaug", "binarized"):
        both = record["dev_choices"][name]
        assert record["rows"][name]["system"] == both["clean+noisy"]["chosen"]
        assert record["rows"][f"{name}_cleandev"]["system"] == both["clean"]["chosen"]
    assert set(record["dev_scores"]["importantaug_snr15"]) == \
        {"dev"} | {f"dev_snr{s}" for s in ("-12.5", "-10", "0", "10", "20", "30", "40")}
    assert [record["systems"][s]["epochs"] for s in ("baseline", "generator", "importantaug_specaugment")] \
        == [2, 1, 1]  # the preset's
    assert 0 <= record["generator"]["noise_energy_share"] <= 1
    timing = json.load(open(os.path.join(folder, "timing.json")))
    assert timing["wall_s"]["baseline"] > 0
    assert len(timing["corpus_sha256"]) == 64 and timing["machine"]["torch_cpu_capability"]
    # the rerun from scratch: the same bytes, from the same corpus build
    assert committed(str(tmp_path / "results_a"), "paper") == committed(results, "paper")
    timings = [json.load(open(os.path.join(r, "paper", "seed1", "timing.json"))) for r in (results, results_a)]
    assert timings[0]["corpus_sha256"] == timings[1]["corpus_sha256"]

    md = open(os.path.join(results, "report.md")).read()
    front_end_section(md, "paper")
    assert "### Tests: `importantaug` against every row" in md and "| specaugment | " in md

    # The report from the committed files alone, in a copy
    copy = str(tmp_path / "copy")
    shutil.copytree(results, copy)
    os.remove(os.path.join(copy, "report.md"))
    proc = report(copy)
    assert proc.returncode == 0, proc.stderr
    assert open(os.path.join(copy, "report.md")).read() == md

    # Bad options: one line each
    for bad, message in ((["--protocol", "v2"], "unknown option --protocol"),
                         (["--frontends", "raw"], "--frontends are paper and/or stable"),
                         (["--seeds", "x"], "--seeds are whole numbers")):
        proc = subprocess.run([*args, *bad], capture_output=True, text=True, env=env)
        assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_benchmark_multi_condition_tiny(tmp_path, tiny_corpus):
    """The multi-condition variant end to end (tiny): the generator and every
    noise row trained with the SNR range, committed apart with the range in
    seed.json, and its report; a bad range is one line."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["bash", os.path.join(KWS, "benchmark.sh"), "--preset", "tiny", "--seeds", "1",
            "--data_dir", tiny_corpus, "--frontends", "stable", "--bench_dir", str(tmp_path / "bench"),
            "--results_dir", str(tmp_path / "results")]
    proc = subprocess.run([*args, "--snr_range", "[-12.5, 15]"], capture_output=True, text=True, env=env,
                          timeout=1500)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    exp = tmp_path / "bench" / "stable" / "seed1"
    for system in ("generator", "noise", "importantaug"):
        assert saved_hparams(str(exp / system))["snr_db"] == [-12.5, 15]
    assert not (exp / "importantaug_snr15").exists() and not (tmp_path / "bench" / "noisy_dev").exists()
    assert not (exp / "null_importantaug").exists()  # conventional noise itself at the same range
    folder = tmp_path / "results" / "stable" / "seed1"
    committed_files(folder)
    record = json.loads((folder / "seed.json").read_text())
    assert record["frontend"] == "stable" and record["max_epochs"] == 1 and record["patience"] == 1
    assert record["snr_range"] == [-12.5, 15.0] and record["generator"]["snr_db"] == [-12.5, 15.0]
    assert record["dev_choices"] == {} and sorted(record["rows"]) == sorted(MULTI_ROWS)
    with gzip.open(folder / "decisions.csv.gz", "rt") as f:
        assert f.readline().strip().split(",") == ["ID", "set", "reference", *MULTI_ROWS]
    md = (tmp_path / "results" / "report.md").read_text()
    assert "Multi-condition variant" in md and "| -12.5 to 15 | test (clean) |" in md
    front_end_section(md, "stable")
    assert "resumed" not in json.loads((folder / "timing.json").read_text())
    # a run stopped before ImportantAug, resumed: the same decisions; its time is the last part's only
    decisions = (folder / "decisions.csv.gz").read_bytes()
    shutil.rmtree(exp / "importantaug")
    proc = subprocess.run([*args, "--snr_range", "[-12.5, 15]"], capture_output=True, text=True, env=env,
                          timeout=1500)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "generator: done, skipping" in proc.stdout + proc.stderr
    assert (folder / "decisions.csv.gz").read_bytes() == decisions
    assert json.loads((folder / "timing.json").read_text())["resumed"] is True
    for bad in ("5", "[15, -12.5]", "[a, b]"):
        proc = subprocess.run([*args, "--snr_range", bad], capture_output=True, text=True, env=env)
        assert proc.returncode != 0 and "--snr_range is [low, high] in dB" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_noisy_dev_of_manifests_pointing_elsewhere_is_one_line(tmp_path):
    m = tmp_path / "d" / "manifests"
    (m / "noisy").mkdir(parents=True)
    header = "ID,duration,wav,label,speaker\n"
    (m / "dev.csv").write_text(header + "a,1.0,/elsewhere/speech_commands/yes/a.wav,yes,a\n")
    (m / "noise_dev.csv").write_text(header + "n,1.0,/elsewhere/noise/n.wav,noise,n\n")
    (m / "noisy" / "qut_snr0.csv").write_text(header)
    proc = module("noisy_dev", "--data_dir", str(tmp_path / "d"), "--out", str(tmp_path / "out"), timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "/elsewhere/speech_commands/yes/a.wav, outside" in proc.stderr and "--stage 1" in proc.stderr
