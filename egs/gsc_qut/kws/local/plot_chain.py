#!/usr/bin/env python3
"""Spectrograms of one keyword before and after the offline corpus's signal
chain (iaug/data/signal_chain.py), for a few speakers of the synthetic corpus.

  plot_chain.py --out results/signal_chain.png [--word seven] [--speakers 4]
                [--seed 1234] [--config hparams/data.yaml]

Top row: the clip as the corpus makes it with the chain off (espeak-ng, the
fixed noise floor); bottom row: the same speaker id with the chain of the
demo preset (the wider voice draw gives it another variant, pitch and rate;
its vocal-tract warp and the clip's room, background, channel, level and
padding draws are listed above it).
"""
import argparse
import sys
from pathlib import Path

try:
    import iaug  # noqa: F401
except ImportError:  # run from a clone without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import numpy as np
import yaml

from iaug.data import signal_chain as sc
from iaug.data.espeak import place, render_words, vary_take
from iaug.data.gsc import GSC_LABELS
from iaug.data.gsc_synth import CHAIN_KEY, CLIP, choose_speaker_ids, make_speaker, speaker_clips, take_alpha
from iaug.plotting import plt

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "hparams" / "data.yaml"


def traced_clip(speaker, word, utt, seed, chain):
    """The chain-on clip of `word` (as gsc_synth.finish_clip makes it) and the
    list of stages that fired."""
    take = vary_take(speaker.profile, np.random.default_rng([seed, int(speaker.id, 16), utt]))
    speech = render_words([word], take)[0]
    alpha = take_alpha(speaker, utt, seed, chain)
    if alpha != 1.0:
        speech = sc.vtlp(speech, alpha)
    rng = np.random.default_rng([seed, int(speaker.id, 16), GSC_LABELS.index(word), utt])
    p = speaker.profile
    gain_db = min(p.gain_db + rng.uniform(-2, 2), -1.0)
    x = place(speech * np.float32(10 ** ((gain_db - p.gain_db) / 20)), CLIP,
              float(np.clip(p.position + rng.normal(0, 0.12), 0, 1)))
    floor_db = speaker.floor_db + rng.uniform(-2, 2)
    crng = np.random.default_rng([seed, int(speaker.id, 16), GSC_LABELS.index(word), utt, CHAIN_KEY])
    trace = [f"{speaker.profile.espeak_voice()}, VTLP {alpha:.2f}" if alpha != 1.0
             else speaker.profile.espeak_voice()]
    return sc.chain(x, crng, chain, floor_db=floor_db, pad=True, trace=trace, seed=seed), trace


def spectrogram_db(x, n_fft=512, hop=128):
    win = np.hanning(n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(x, n_fft // 2), n_fft)[::hop] * win
    return 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)).T ** 2 + 1e-20)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--word", default="seven", choices=GSC_LABELS)
    ap.add_argument("--speakers", type=int, default=4)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--config", default=str(DEFAULT_CONFIG))
    args = ap.parse_args(argv)
    cfg = yaml.safe_load(Path(args.config).read_text())
    seed = cfg["seed"] if args.seed is None else args.seed
    chain = sc.settings({**cfg.get("signal_chain", {}), "enabled": True})
    ids = choose_speaker_ids(max(args.speakers, 3), seed)[:args.speakers]
    fig, axes = plt.subplots(2, len(ids), figsize=(3.4 * len(ids), 6.4), squeeze=False)
    for j, sid in enumerate(ids):
        before = speaker_clips(make_speaker(sid, seed), 1, seed)[args.word, 0]
        after, trace = traced_clip(make_speaker(sid, seed, chain), args.word, 0, seed, chain)
        for i, (x, title) in enumerate(((before, f"{sid}: chain off\n"
                                                 f"{make_speaker(sid, seed).profile.espeak_voice()}"),
                                        (after, f"{sid}: chain on\n" + "\n".join(trace)))):
            ax = axes[i, j]
            db = spectrogram_db(x)
            ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=db.max() - 90, vmax=db.max(),
                      extent=[0, len(x) / 16000, 0, 8])
            ax.set_title(title, fontsize=7)
            ax.set_xlabel("s", fontsize=8)
            ax.set_ylabel("kHz", fontsize=8)
    fig.suptitle(f'"{args.word}" from the synthetic corpus, before and after the signal chain '
                 f"(v{sc.VERSION}; dB, 90 dB range)", fontsize=10)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    try:  # 256 colours: a figure small enough to commit
        from PIL import Image
        Image.open(out).convert("RGB").quantize(256).save(out, optimize=True)
    except ImportError:
        pass
    print(out)


if __name__ == "__main__":
    sys.exit(main())
