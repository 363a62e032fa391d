"""The evaluation stage's report, for any recipe: results.md, the
error-against-SNR plot and importance maps of the generator.

    python -m iaug.cli.report --exp_dir exp/synth_demo \\
        --test_csv data/synth/manifests/test.csv [--generator G] [--metric_name WER]

Reads ``<exp_dir>/results.csv`` (written by ``iaug-eval``) and the dev choices
``<exp_dir>/*.selection.json``.
"""

import argparse
import os
import sys

import torch
from speechbrain.dataio.dataio import load_data_csv

from iaug.analysis import diagnostic_lines
from iaug.cli.diagnose import cached_diagnosis
from iaug.data.audio import read_audio
from iaug.evaluate import generator_with_frontend
from iaug.plotting import plot_error_vs_snr, plot_importance_maps
from iaug.recipe import keep_freed_memory
from iaug.scoring import atomic_write, dev_choices, read_results, results_markdown


def importance_figure(generator_source, test_csv, out_png, num=4):
    """Maps of the first test utterances with ``num`` different transcripts."""
    generator, stft = generator_with_frontend(generator_source)
    rows, seen = [], set()
    for row in load_data_csv(test_csv).values():
        title = row.get("label") or " ".join(row.get("wrd", row["wav"]).lower().split()[:4])
        if title not in seen:
            seen.add(title)
            rows.append((title, read_audio(row["wav"])))
        if len(rows) == num:
            break
    with torch.no_grad():
        masks = [generator(stft.db(stft(wav[None])))[0] for _, wav in rows]
    plot_importance_maps([w for _, w in rows], masks, out_png, titles=[t for t, _ in rows],
                         stft=stft)


def generator_lines(exp_dir, generator, test_csv):
    """Where the generator puts the noise and where the baseline reads the
    words, on the test set with the dev noise (``noise_dev.csv`` beside the
    test manifest); nothing when either is missing."""
    noise_csv = os.path.join(os.path.dirname(test_csv), "noise_dev.csv")
    baseline = os.path.join(exp_dir, "baseline")
    if not (os.path.isfile(noise_csv) and os.path.isdir(baseline)):
        return []
    report = cached_diagnosis(os.path.join(exp_dir, "generator_diagnostic.json"), baseline,
                              test_csv, noise_csv, generator)
    return [f"What the generator learned (test set, dev noise at {report['snr_db']:g} dB, the "
            "frozen baseline; speech bins: within 40 dB of the clip's loudest bin):", "",
            *[f"- {line}" for line in diagnostic_lines(report)], ""]


def main(argv=None):
    keep_freed_memory()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp_dir", required=True)
    parser.add_argument("--test_csv", help="manifest whose first utterances the maps show")
    parser.add_argument("--generator", help="default: <exp_dir>/generator, if it exists")
    parser.add_argument("--metric_name", default="error rate")
    parser.add_argument("--title", help="default: Results: <exp_dir>")
    parser.add_argument("--unfinished", nargs="*", default=[],
                        help="systems whose training did not finish (named, not scored)")
    args = parser.parse_args(argv)
    results_csv = os.path.join(args.exp_dir, "results.csv")
    try:
        rows = read_results(results_csv)
        md = [f"# {args.title or 'Results: ' + args.exp_dir}", "",
              results_markdown(rows, args.metric_name)]
        if args.unfinished:
            md += [f"Not scored, training unfinished: {', '.join(args.unfinished)}.", ""]
        choices = dev_choices(args.exp_dir)
        if choices:
            md += ["Chosen on dev:", "", *choices, ""]
        if any(r["snr"] is not None for r in rows):
            plot_error_vs_snr(results_csv, os.path.join(args.exp_dir, "error_vs_snr.png"),
                              args.metric_name)
            md += [f"![{args.metric_name} against SNR](error_vs_snr.png)", ""]
        generator = args.generator or os.path.join(args.exp_dir, "generator")
        if args.test_csv and os.path.exists(generator):
            md += generator_lines(args.exp_dir, generator, args.test_csv)
            importance_figure(generator, args.test_csv,
                              os.path.join(args.exp_dir, "importance_maps.png"))
            md += ["![importance maps](importance_maps.png)", ""]
    except (FileNotFoundError, ValueError) as err:
        print(f"report: error: {err}", file=sys.stderr)
        return 1
    atomic_write(os.path.join(args.exp_dir, "results.md"), "\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
