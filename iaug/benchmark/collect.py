"""A finished seed's committed files, from its experiment folder:

    python3 -m iaug.benchmark.collect --rows benchmark_rows.yaml --exp_dir E --data_dir D \\
        --out R/<frontend>/seed<N> --frontend F --seed N --preset P [--snr_range "[low, high]"]

Into ``--out``: ``decisions.csv.gz`` (every row's hypothesis on every test
utterance; gzip without a time stamp, so the same decisions give the same
bytes), ``seed.json`` (rows, dev choices both ways, epochs trained, what the
generator learned; same bytes on a rerun on the same machine and threads),
``timing.json`` (wall time per system, the corpus build and CPU kernels;
differs between runs) and ``importance_maps.png``. A file that was there with
other bytes is replaced and named.
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

import yaml

from iaug.benchmark.rows import read_rows, variant_rows
from iaug.hparams import read_preset, saved_hparams, snr_range
from iaug.scoring import atomic_write, atomic_write_bytes, read_results

# seed.json's format; "v2" keeps the committed seeds' bytes on a rerun
PROTOCOL = "v2"


def r4(x):
    return None if x is None else round(float(x), 4)


def set_key(row):
    """A results.csv row's test set as the decisions name it (``qut_snr0``)."""
    return row["test_set"] if row["snr_db"] == "" else f"{row['test_set']}_snr{row['snr_db']}"


def sort_set_keys(keys):
    """Clean ``test`` first, then the noisy sets by SNR."""
    return sorted(keys, key=lambda k: (k != "test", float(k.rsplit("snr", 1)[1]) if "snr" in k else 0.0))


def training_snr(folder):
    """The stage-A SNR (or SNR range) in the hyperparams.yaml SpeechBrain saved in ``folder``."""
    snr = saved_hparams(folder).get("snr_db")
    if snr is None:
        sys.exit(f"{folder}/hyperparams.yaml has no top-level snr_db: pass --snr_db")
    return [float(x) for x in snr] if isinstance(snr, list) else float(snr)


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


def collect(args):
    """The committed files of the seed in ``args.exp_dir`` (see the module)."""
    table = read_rows(args.rows)
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
    choices = variant_rows(table, multi)
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
    dev_choices = defaultdict(dict)  # {arm: {dev set: its choice}}
    for row in table if multi is None else ():
        if row.dev:
            dev_choices[row.arm][row.dev] = selection(os.path.join(exp, f"{row.name}.selection.json"))
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
        "protocol": PROTOCOL, "frontend": args.frontend, "seed": args.seed, **settings,
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



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", required=True, help="the rows file (benchmark_rows.yaml)")
    ap.add_argument("--exp_dir", required=True)
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--frontend", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--preset", required=True, help="the training preset file")
    ap.add_argument("--run_wall_s", type=float, help="wall time of the whole run (timing.json)")
    ap.add_argument("--resumed", action="store_true",
                    help="the run trained the rest of a seed stopped before: --run_wall_s is its last part only")
    ap.add_argument("--snr_range", help="the multi-condition variant's SNR range, \"[low, high]\"")
    collect(ap.parse_args(argv))


if __name__ == "__main__":
    main()
