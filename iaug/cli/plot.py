"""iaug-plot: pictures of a trained ImportantAug system.

    iaug-plot importance --generator exp/generator --out maps.png a.wav b.wav
    iaug-plot snr exp/results.csv --out error_vs_snr.png [--metric_name WER]

``--generator`` is an experiment folder (its own front-end is used), an
exported model folder, a ``generator.ckpt`` or the authors'
``importantaug_clf_frozen.pt``.
"""

import argparse
import os
import sys

import torch


def importance(args):
    from iaug.data.audio import read_audio
    from iaug.evaluate import generator_with_frontend
    from iaug.plotting import plot_importance_maps

    generator, stft = generator_with_frontend(args.generator)
    # a user's files: another rate or several channels converted, with a warning
    wavs = [read_audio(path, convert=True) for path in args.wavs]
    with torch.no_grad():  # one file at a time: the files may differ in length
        masks = [generator(stft.db(stft(wav[None])))[0] for wav in wavs]
    # "<word>/<file>": GSC-layout file names repeat across word folders
    titles = [os.path.splitext(os.path.join(os.path.basename(os.path.dirname(os.path.abspath(p))),
                                            os.path.basename(p)))[0] for p in args.wavs]
    return plot_importance_maps(wavs, masks, args.out, titles=titles, stft=stft)


def snr(args):
    from iaug.plotting import plot_error_vs_snr

    return plot_error_vs_snr(args.results_csv, args.out, args.metric_name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="iaug-plot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("importance", help="importance maps of audio files (resampled to 16 kHz)")
    imp.add_argument("--generator", required=True)
    imp.add_argument("--out", required=True, help="PNG file")
    imp.add_argument("wavs", nargs="+")
    imp.set_defaults(func=importance)
    curve = sub.add_parser("snr", help="error rate against SNR from a results.csv")
    curve.add_argument("results_csv")
    curve.add_argument("--out", required=True, help="PNG file")
    curve.add_argument("--metric_name", default="error rate", help="the axis label (WER, ...)")
    curve.set_defaults(func=snr)
    args = parser.parse_args(argv)
    try:
        out = args.func(args)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f"iaug-plot: error: {err}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
