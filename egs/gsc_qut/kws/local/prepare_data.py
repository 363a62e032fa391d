#!/usr/bin/env python3
"""Data preparation of the keyword-spotting recipe (run.sh stages 0 and 1).

  prepare_data.py download  --corpus gsc|synth --preset tiny|demo|paper --data_dir DIR
                            [--archive_dir DIR] [--nj N] [--config hparams/data.yaml]
  prepare_data.py manifests --data_dir DIR [--on_bad fail|skip] [--nj N]

Layout under DIR (both corpora):
  speech_commands/          GSC v0.02 layout (real or synthesized)
  noise/{train,dev}/*.wav   1 s training-noise clips (MUSAN noise or synthetic)
  noisy_test/<name>_snr<snr>/<word>/<file>.wav
                            qut: GSC-QUT or its synthetic twin; musan: the
                            authors' GSC-MUSAN release (gsc only)
  manifests/{train,dev,test}.csv, manifests/noisy/<set>.csv,
  manifests/noise_{train,dev}.csv
  .done_<step>              finished steps (with their settings): reruns skip them
"""
import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

try:
    import iaug  # noqa: F401
except ImportError:  # run from a clone without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import yaml

from iaug.data import download as dl
from iaug.data.audio import read_mono
from iaug.data.gsc import GSC_LABELS, list_splits
from iaug.data.manifest import DataError, build_manifests
from iaug.data.musan import cut_noise_clips, load_qut_home
from iaug.data.noisy_sets import make_noisy_sets
from iaug.data.synth import build_corpus, build_noise_sources

MANIFEST_FORMAT = 2  # 2: noise manifests carry wav_format/wav_opts
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "hparams" / "data.yaml"


def log(msg):
    print(f"[prepare_data {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def step(data_dir, name, params, outputs, fn):
    """Run `fn` unless `.done_<name>` records the same params and its outputs
    exist; then record them. Returns True when it ran."""
    marker = data_dir / f".done_{name}"
    if (marker.exists() and json.loads(marker.read_text()) == params
            and all(Path(o).exists() for o in outputs)):
        log(f"{name}: already done, skipped")
        return False
    t0 = time.time()
    log(f"{name}: start")
    fn()
    marker.write_text(json.dumps(params, sort_keys=True) + "\n")
    log(f"{name}: done in {time.time() - t0:.1f} s")
    return True


def claim(data_dir, corpus):
    """One data_dir holds one corpus: never overwrite real GSC with synth."""
    tag = data_dir / ".corpus"
    if tag.exists() and tag.read_text().strip() != corpus:
        raise DataError(f"{data_dir} holds the {tag.read_text().strip()} corpus; "
                        f"use another --data_dir for --corpus {corpus}")
    if not tag.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tag.write_text(corpus + "\n")


def clear_noisy(data_dir, name):
    for d in (data_dir / "noisy_test").glob(f"{name}_snr*"):
        shutil.rmtree(d)


def noisy_qut(data_dir, noise, cfg, nj):
    """The GSC-QUT recipe, for either corpus: test split x SNRs."""
    clear_noisy(data_dir, "qut")
    root = data_dir / "speech_commands"
    silent = make_noisy_sets(root, list_splits(root)["test"], noise, data_dir / "noisy_test",
                             "qut", cfg["snrs"], cfg["seed"], nj)
    if silent:
        log(f"qut: {silent} silent test clips copied without noise")


def download_synth(data_dir, cfg, preset, nj):
    sizes = cfg["synth"][preset]
    seed = cfg["seed"]
    base = {"corpus": "synth", "seed": seed, **sizes}

    def corpus():
        n = build_corpus(data_dir / "speech_commands", sizes["speakers"], sizes["utterances"],
                         seed, sizes["background_s"], nj, log)
        log(f"synth corpus: {n} clips")

    def noise_sources():
        build_noise_sources(data_dir / "synth_noise", sizes["noise_sources"],
                            sizes["noise_source_s"], sizes["test_noise_s"], seed, nj)

    def noise_clips():
        cut_noise_clips(sorted((data_dir / "synth_noise" / "train").glob("*/*.wav")),
                        data_dir / "noise", cfg["noise_dev_fraction"], seed, nj, log)

    def noisy():
        noisy_qut(data_dir, read_mono(data_dir / "synth_noise" / "test" / "home.wav")[0], cfg, nj)

    step(data_dir, "synth_corpus", base, [data_dir / "speech_commands"], corpus)
    step(data_dir, "synth_noise", base, [data_dir / "synth_noise"], noise_sources)
    step(data_dir, "noise_clips", {**base, "dev_fraction": cfg["noise_dev_fraction"]},
         [data_dir / "noise"], noise_clips)
    step(data_dir, "noisy_qut", {**base, "snrs": cfg["snrs"]}, [data_dir / "noisy_test"], noisy)


def find_one(root, filename):
    hits = sorted(Path(root).rglob(filename))
    if not hits:
        raise DataError(f"{filename} not found under {root}")
    return hits[0]


def arrange_musan_release(src, data_dir):
    """Move each test set of the authors' GSC-MUSAN release (a folder holding
    word folders) to noisy_test/musan_snr<snr> (or musan_<its path>)."""
    clear_noisy(data_dir, "musan")
    roots = sorted({p.parent.parent for p in Path(src).rglob("*.wav") if p.parent.name in GSC_LABELS})
    if not roots:
        raise DataError(f"no <word>/<file>.wav test sets found in {src}")
    for r in roots:
        rel = r.relative_to(src).as_posix() if r != Path(src) else "all"
        snr = re.search(r"(-?\d+(?:\.\d+)?)\s*(?:db)?$", r.name, re.IGNORECASE)
        name = f"musan_snr{float(snr.group(1)):g}" if snr else "musan_" + re.sub(r"[^\w.-]+", "_", rel)
        dest = data_dir / "noisy_test" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(r), str(dest))
        log(f"GSC-MUSAN: {rel} -> noisy_test/{name}")


def download_gsc(data_dir, cfg, archive_dir, nj):
    archives = cfg["archives"]
    seed = cfg["seed"]
    for key, a in archives.items():
        dest = data_dir / a["dest"]

        def get(a=a, dest=dest):
            path = dl.fetch(a["url"], a["file"], data_dir / "downloads", archive_dir, log)
            if dest.exists():
                shutil.rmtree(dest)  # a half-finished extraction
            log(f"extracting {path.name}")
            dl.extract(path, dest)
        step(data_dir, f"extract_{key}", {"file": a["file"]}, [dest], get)

    def musan_clips():
        sources = [p for p in (data_dir / archives["musan"]["dest"]).rglob("*.wav") if "noise" in p.parts]
        cut_noise_clips(sorted(sources), data_dir / "noise", cfg["noise_dev_fraction"], seed, nj, log)

    def qut():
        recording = find_one(data_dir / archives["qut_home"]["dest"], cfg["qut_recording"])
        noisy_qut(data_dir, load_qut_home(recording), cfg, nj)

    step(data_dir, "musan_release", {"file": archives["gsc_musan"]["file"]}, [data_dir / "noisy_test"],
         lambda: arrange_musan_release(data_dir / archives["gsc_musan"]["dest"], data_dir))
    step(data_dir, "noise_clips", {"corpus": "gsc", "seed": seed, "dev_fraction": cfg["noise_dev_fraction"]},
         [data_dir / "noise"], musan_clips)
    step(data_dir, "noisy_qut", {"corpus": "gsc", "seed": seed, "snrs": cfg["snrs"]},
         [data_dir / "noisy_test"], qut)


def markers(data_dir):
    return {p.name: p.read_text() for p in sorted(data_dir.glob(".done_*")) if p.name != ".done_manifests"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("download", help="stage 0: get or synthesize the corpora")
    d.add_argument("--corpus", choices=["gsc", "synth"], required=True)
    d.add_argument("--preset", choices=["tiny", "demo", "paper"], default="demo", help="synth size")
    d.add_argument("--archive_dir", help="folder holding archives fetched by hand")
    m = sub.add_parser("manifests", help="stage 1: check every file, write CSV manifests")
    m.add_argument("--on_bad", choices=["fail", "skip"], default="fail")
    for p in (d, m):
        p.add_argument("--data_dir", required=True)
        p.add_argument("--nj", type=int, default=os.cpu_count() or 1)
        p.add_argument("--config", default=str(DEFAULT_CONFIG))
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    cfg = yaml.safe_load(Path(args.config).read_text())
    t0 = time.time()
    try:
        if args.cmd == "download":
            claim(data_dir, args.corpus)
            if args.corpus == "synth":
                download_synth(data_dir, cfg, args.preset, args.nj)
            else:
                download_gsc(data_dir, cfg, args.archive_dir, args.nj)
        else:
            def manifests():
                counts = build_manifests(data_dir, args.on_bad, args.nj, log)
                log("manifest rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            # "format" changes with the manifests' columns, so older ones are rebuilt
            step(data_dir, "manifests", {"on_bad": args.on_bad, "inputs": markers(data_dir),
                                         "format": MANIFEST_FORMAT},
                 [data_dir / "manifests"], manifests)
    except (dl.DownloadError, DataError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    log(f"{args.cmd}: finished in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
