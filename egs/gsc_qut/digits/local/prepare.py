#!/usr/bin/env python3
"""Digit manifests from the keyword recipe's data folder (run.sh stage 1).

    prepare.py --data_dir ../kws/data/synth --out_dir exp/manifests

Keeps the rows of zero..nine from $data_dir/manifests/{train,dev,test}.csv and
every noisy test set manifests/noisy/*.csv; the audio is not copied.
"""
import argparse
import csv
import glob
import os
import sys

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def filter_manifest(src, dst, labels):
    with open(src, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if "label" not in (reader.fieldnames or []):
            raise ValueError(f"{src} has no 'label' column")
        rows = [row for row in reader if row["label"] in labels]
        fields = reader.fieldnames
    if not rows:
        raise ValueError(f"{src} holds none of the labels {labels}")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True, help="the keyword recipe's data folder")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--labels", nargs="+", default=DIGITS)
    args = parser.parse_args(argv)
    src = os.path.join(args.data_dir, "manifests")
    jobs = [os.path.join(src, f"{split}.csv") for split in ("train", "dev", "test")]
    missing = [p for p in jobs if not os.path.isfile(p)]
    if missing:
        sys.exit(f"prepare.py: {', '.join(missing)} missing: run the keyword recipe's "
                 f"data stages (egs/gsc_qut/kws/run.sh --stop_stage 1) first")
    jobs += sorted(glob.glob(os.path.join(src, "noisy", "*.csv")))
    for path in jobs:
        dst = os.path.join(args.out_dir, os.path.relpath(path, src))
        print(f"{dst}: {filter_manifest(path, dst, set(args.labels))} utterances")


if __name__ == "__main__":
    main()
