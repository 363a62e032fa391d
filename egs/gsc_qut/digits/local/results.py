#!/usr/bin/env python3
"""Results of the digit systems (run.sh stage 4): results.csv, results.md, plot.

    results.py --exp_dir exp baseline importantaug

Reads each system's summary.json (test sets scored by train.py) and the
manifests' sizes; reuses iaug.scoring for the table and iaug.plotting.
"""
import argparse
import json
import os

from iaug.plotting import plot_error_vs_snr
from iaug.scoring import append_rows, results_markdown, test_set_name


def count_rows(csv_path):
    with open(csv_path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip()) - 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp_dir", required=True)
    parser.add_argument("--manifest_dir", required=True)
    parser.add_argument("systems", nargs="+")
    args = parser.parse_args(argv)
    rows = []
    for system in args.systems:
        with open(os.path.join(args.exp_dir, system, "summary.json"), encoding="utf-8") as f:
            tests = json.load(f)["test"]
        for name, stats in tests.items():
            # test set names are manifest stems: test, qut_snr-12.5, ...
            set_name, snr = test_set_name(name + ".csv")
            manifest = os.path.join(args.manifest_dir, f"{name}.csv")
            if not os.path.isfile(manifest):
                manifest = os.path.join(args.manifest_dir, "noisy", f"{name}.csv")
            rows.append({"system": system, "test_set": set_name,
                         "snr_db": "" if snr is None else f"{snr:g}",
                         "error_rate": f"{float(stats['error_rate']):.4f}",
                         "num_utts": count_rows(manifest)})
    results_csv = os.path.join(args.exp_dir, "results.csv")
    if os.path.exists(results_csv):
        os.remove(results_csv)
    append_rows(results_csv, rows)
    md = ["# Spoken digits: baseline against ImportantAug", "", results_markdown(rows)]
    if any(r["snr_db"] for r in rows):
        plot_error_vs_snr(results_csv, os.path.join(args.exp_dir, "error_vs_snr.png"))
        md += ["![error against SNR](error_vs_snr.png)", ""]
    with open(os.path.join(args.exp_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
