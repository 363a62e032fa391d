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
import os
import re
import shutil
import sys
from pathlib import Path

try:
    import iaug  # noqa: F401
except ImportError:  # run from a clone without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import yaml

from iaug.data import signal_chain as sc
from iaug.data.audio import SAMPLE_RATE, read_mono
from iaug.data.gsc import GSC_LABELS, build_manifests, list_splits
from iaug.data.gsc_synth import build_corpus
from iaug.data.manifest import DataError
from iaug.data.noise_clips import cut_noise_clips
from iaug.data.noisy_sets import clear_noisy_sets, make_noisy_sets
from iaug.data.steps import (audio_fingerprint, claim, done_markers, extract_archives, find_one,
                              log, run_command, step)
from iaug.data.synth_noise import build_noise_sources

MANIFEST_FORMAT = 2  # 2: noise manifests carry wav_format/wav_opts
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "hparams" / "data.yaml"
CLIP_S = 1.0  # training-noise clips: as long as a keyword clip


def noisy_qut(data_dir, noise, cfg, nj):
    """The GSC-QUT recipe, for either corpus: test split x SNRs."""
    root = data_dir / "speech_commands"
    silent = make_noisy_sets(root, list_splits(root)["test"], noise, data_dir / "noisy_test",
                             "qut", cfg["snrs"], cfg["seed"], nj)
    if silent:
        log(f"qut: {silent} silent test clips copied without noise")


def download_synth(data_dir, cfg, preset, nj):
    sizes = dict(cfg["synth"][preset])
    seed = cfg["seed"]
    # the signal chain: shared options, switched on per preset
    chain = {**cfg.get("signal_chain", {}), "enabled": bool(sizes.pop("signal_chain", False))}
    base = {"corpus": "synth", "seed": seed, **sizes}
    speech = {**base, "signal_chain": sc.recorded(chain)}  # steps whose audio holds the speech

    def corpus():
        n = build_corpus(data_dir / "speech_commands", sizes["speakers"], sizes["utterances"],
                         seed, sizes["background_s"], nj, log, chain,
                         sizes.get("voices"), sizes.get("variants"))
        log(f"synth corpus: {n} clips")

    def noise_sources():
        build_noise_sources(data_dir / "synth_noise", sizes["noise_sources"],
                            sizes["noise_source_s"], sizes["test_noise_s"], seed, nj)

    def noise_clips():
        cut_noise_clips(sorted((data_dir / "synth_noise" / "train").glob("*/*.wav")),
                        data_dir / "noise", CLIP_S, cfg["noise_dev_fraction"], seed, nj, log)

    def noisy():
        home = read_mono(data_dir / "synth_noise" / "test" / "home.wav", SAMPLE_RATE)[0]
        noisy_qut(data_dir, home, cfg, nj)

    step(data_dir, "synth_corpus", speech, [data_dir / "speech_commands"], corpus)
    step(data_dir, "synth_noise", base, [data_dir / "synth_noise"], noise_sources)
    step(data_dir, "noise_clips", {**base, "dev_fraction": cfg["noise_dev_fraction"]},
         [data_dir / "noise"], noise_clips)
    step(data_dir, "noisy_qut", {**speech, "snrs": cfg["snrs"]}, [data_dir / "noisy_test"], noisy)


def arrange_musan_release(src, data_dir):
    """Move each test set of the authors' GSC-MUSAN release (a folder holding
    word folders) to noisy_test/musan_snr<snr> (or musan_<its path>)."""
    clear_noisy_sets(data_dir / "noisy_test", "musan")
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
    extract_archives(data_dir, archives, archive_dir)

    def musan_clips():
        sources = [p for p in (data_dir / archives["musan"]["dest"]).rglob("*.wav") if "noise" in p.parts]
        cut_noise_clips(sorted(sources), data_dir / "noise", CLIP_S, cfg["noise_dev_fraction"], seed, nj, log)

    def qut():
        recording = find_one(data_dir / archives["qut_home"]["dest"], cfg["qut_recording"])
        noisy_qut(data_dir, read_mono(recording, SAMPLE_RATE)[0], cfg, nj)

    step(data_dir, "musan_release", {"file": archives["gsc_musan"]["file"]}, [data_dir / "noisy_test"],
         lambda: arrange_musan_release(data_dir / archives["gsc_musan"]["dest"], data_dir))
    step(data_dir, "noise_clips", {"corpus": "gsc", "seed": seed, "dev_fraction": cfg["noise_dev_fraction"]},
         [data_dir / "noise"], musan_clips)
    step(data_dir, "noisy_qut", {"corpus": "gsc", "seed": seed, "snrs": cfg["snrs"]},
         [data_dir / "noisy_test"], qut)


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

    def download():
        claim(data_dir, args.corpus)
        if args.corpus == "synth":
            download_synth(data_dir, cfg, args.preset, args.nj)
        else:
            download_gsc(data_dir, cfg, args.archive_dir, args.nj)

    def manifests():
        def write():
            counts = build_manifests(data_dir, args.on_bad, args.nj, log)
            log("manifest rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        # "format" changes with the manifests' columns, so older ones are
        # rebuilt; "audio" with any audio file added, removed or changed
        step(data_dir, "manifests", {"on_bad": args.on_bad, "format": MANIFEST_FORMAT,
                                     "inputs": done_markers(data_dir, exclude=[".done_manifests"]),
                                     "audio": audio_fingerprint(data_dir)},
             [data_dir / "manifests"], write)
    return run_command(args.cmd, download if args.cmd == "download" else manifests)


if __name__ == "__main__":
    sys.exit(main())
