"""The benchmark's noisy dev set: the dev clips mixed with the *training*
noise types (the held-out training-noise clips, ``noise_dev.csv``) at the SNRs
of the noisy test sets, for the dev choices; the test noise types are never
used for any choice.

    python3 -m iaug.benchmark.noisy_dev --data_dir D --out DIR

Prints the manifests it made (one ``dev_snr<SNR>.csv`` per SNR) on one line.
"""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from iaug.data.audio import read_mono
from iaug.data.download import sha256_of
from iaug.data.noisy_sets import make_noisy_sets
from iaug.data.steps import step
from iaug.scoring import atomic_open, test_set_name

def noisy_dev(args):
    """Build (or find built) the noisy dev manifests of ``args``."""
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--nj", type=int, default=2)
    noisy_dev(ap.parse_args(argv))


if __name__ == "__main__":
    main()
