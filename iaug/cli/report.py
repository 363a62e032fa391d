"""Stage 8's report: results.md, error-against-SNR plot, importance maps.

    python -m iaug.cli.report --exp_dir exp/synth_demo --data_dir data/synth
"""

import argparse
import os

import torch

from iaug.checkpoints import load_weights
from iaug.dataio import read_wav
from iaug.features import STFT
from iaug.models import MaskGenerator
from iaug.plotting import plot_error_vs_snr, plot_importance_maps
from iaug.scoring import dev_choices, read_rows, results_markdown
from speechbrain.dataio.dataio import load_data_csv


def importance_figure(generator_source, test_csv, out_png, num=4):
    """Maps of the first test utterances of ``num`` different words."""
    generator = MaskGenerator()
    load_weights(generator, generator_source, "generator")
    rows, seen = [], set()
    for row in load_data_csv(test_csv).values():
        if row["label"] not in seen:
            seen.add(row["label"])
            rows.append(row)
        if len(rows) == num:
            break
    wavs = torch.stack([read_wav(r["wav"]) for r in rows])
    stft = STFT()
    with torch.no_grad():
        masks = generator.eval()(stft.db(stft(wavs)))
    plot_importance_maps(wavs, masks, out_png, titles=[r["label"] for r in rows], stft=stft)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exp_dir", required=True)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--generator", help="default: <exp_dir>/generator")
    args = parser.parse_args(argv)
    results_csv = os.path.join(args.exp_dir, "results.csv")
    rows = read_rows(results_csv)
    md = [f"# Results: {args.exp_dir}", "", results_markdown(rows)]
    choices = dev_choices(args.exp_dir)
    if choices:
        md += ["Chosen on dev:", "", *choices, ""]
    plot_error_vs_snr(results_csv, os.path.join(args.exp_dir, "error_vs_snr.png"))
    md += ["![error against SNR](error_vs_snr.png)", ""]
    generator = args.generator or os.path.join(args.exp_dir, "generator")
    if os.path.exists(generator):
        importance_figure(generator, os.path.join(args.data_dir, "manifests", "test.csv"),
                          os.path.join(args.exp_dir, "importance_maps.png"))
        md += ["![importance maps](importance_maps.png)", ""]
    with open(os.path.join(args.exp_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
