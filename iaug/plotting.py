"""Pictures: importance maps of utterances and error rate against SNR.

matplotlib's Agg backend is used so plots are written on machines without a
display (CI, clusters).
"""

import os
import re
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from iaug.models import STFT  # noqa: E402
from iaug.scoring import read_results  # noqa: E402


def _save(fig, out_png):
    os.makedirs(os.path.dirname(os.path.abspath(out_png)), exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


def plot_importance_maps(wavs, masks, out_png, titles=None, stft=None, noisy=None):
    """One row per utterance: clean dB spectrogram, importance map (1 - noise
    mask) and the spectrogram with noise where the map allows it.

    Arguments
    ---------
    wavs : list of 1-D tensors, or a [B, samples] tensor
    masks : list of [F, T] noise masks (the generator's output), or [B, F, T]
    out_png : str
    titles : list of str, optional
    stft : iaug.features.STFT, optional (the generator's front end)
    noisy : list of noisy waveforms, optional; by default white noise at
        0 dB shaped by the mask illustrates where noise would go.
    """
    stft = stft or STFT()
    rows = len(wavs)
    fig, axes = plt.subplots(rows, 3, figsize=(12, 3 * rows), squeeze=False)
    gen = torch.Generator().manual_seed(0)
    for i in range(rows):
        wav = torch.as_tensor(wavs[i]).detach().float().cpu().flatten()
        mask = torch.as_tensor(masks[i]).detach().float().cpu()
        spec = stft(wav[None])[0]
        if noisy is not None:
            noisy_spec = stft(torch.as_tensor(noisy[i]).detach().float().cpu().flatten()[None])[0]
        else:
            noise = stft(torch.randn(1, wav.numel(), generator=gen))[0]
            gain = (spec.abs().square().mean() / noise.abs().square().mean().clamp(min=1e-20)).sqrt()
            noisy_spec = spec + gain * mask[:, : spec.shape[-1]] * noise
        clean_db = stft.db(spec[None])[0]  # batched: a floored front-end floors per utterance
        vmax = float(clean_db.max())
        panels = (
            (clean_db, "clean (dB)", "magma", vmax - 80, vmax),
            (1.0 - mask, "importance (1 - mask)", "viridis", 0.0, 1.0),
            (stft.db(noisy_spec[None])[0], "noisy (dB)", "magma", vmax - 80, vmax),
        )
        for ax, (img, label, cmap, vmin, vmax_) in zip(axes[i], panels):
            im = ax.imshow(img.numpy(), origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax_)
            ax.set_title(f"{titles[i]}: {label}" if titles else label, fontsize=9)
            ax.set_xlabel("frame")
            ax.set_ylabel("bin")
            fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return _save(fig, out_png)


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def plot_error_vs_snr(results_csv, out_png, metric_name="error rate"):
    """One line per system (and noise type, when there are several) over SNR;
    the clean test set is a separate marker at the right of the axis.

    ``results_csv`` is a results file (:func:`iaug.scoring.read_results`);
    ``metric_name`` labels the axis (``error rate``, ``WER``).
    """
    return _save(error_vs_snr_figure(results_csv, metric_name), out_png)


def error_vs_snr_figure(results_csv, metric_name="error rate"):
    """The figure of :func:`plot_error_vs_snr`, not yet saved."""
    rows = read_results(results_csv)
    lines = defaultdict(list)
    clean = defaultdict(list)
    families = set()
    for row in rows:
        if row["snr"] is None:
            clean[row["system"]].append(row["value"])
        else:
            # qut_snr-12.5 -> qut: one line per noise type
            family = re.sub(r"_?snr-?[\d.]+$", "", row["test_set"]) or "noisy"
            families.add(family)
            lines[(row["system"], family)].append((row["snr"], row["value"]))
    snrs = sorted({snr for pts in lines.values() for snr, _ in pts})
    clean_x = (max(snrs) + max(5.0, (max(snrs) - min(snrs)) * 0.1)) if snrs else 0.0
    systems = list(dict.fromkeys(r["system"] for r in rows))
    # Every system visible: its own colour and marker, and a small sideways
    # shift (dodge), so equal values do not hide one line under another.
    step = min(b - a for a, b in zip(snrs, snrs[1:] + [clean_x])) if snrs else 1.0
    spread = 0.5 * step
    dodge = {sys_: spread * ((i + 0.5) / len(systems) - 0.5) for i, sys_ in enumerate(systems)}
    style = {sys_: (f"C{i % 10}", MARKERS[i % len(MARKERS)]) for i, sys_ in enumerate(systems)}
    dashes = {fam: ("-", "--", ":", "-.")[i % 4] for i, fam in enumerate(sorted(families))}
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for (system, family), pts in lines.items():
        pts.sort()
        color, marker = style[system]
        label = system if len(families) == 1 else f"{system} ({family})"
        ax.plot([p[0] + dodge[system] for p in pts], [p[1] for p in pts], dashes[family],
                marker=marker, color=color, label=label, markersize=5)
    for system, values in clean.items():
        color, marker = style[system]
        ax.plot([clean_x + dodge[system]] * len(values), values, linestyle="none", marker=marker,
                markersize=9, color=color, markeredgecolor="black",
                label=f"{system} (clean)" if lines else system)
    if clean and snrs:
        ax.set_xticks(snrs + [clean_x])
        # rotated: close SNRs (-12.5, -10) would overlap
        ax.set_xticklabels([f"{s:g}" for s in snrs] + ["clean"], rotation=45)
    ax.set_xlabel("test SNR (dB)")
    ax.set_ylabel(f"{metric_name} (%)")
    ax.grid(alpha=0.3)
    # outside the axes: a legend never covers data
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    return fig
