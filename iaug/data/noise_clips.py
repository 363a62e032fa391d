"""Training-noise clips of both recipes: long noise recordings (MUSAN `noise/`
or the synthetic sources) cut into fixed-length 16 kHz clips, split into
train and dev by source file."""
import multiprocessing as mp
import shutil
from pathlib import Path

import numpy as np

from iaug.data.audio import SAMPLE_RATE, read_mono, write_wav
from iaug.data.manifest import DataError


def split_sources(paths, dev_fraction, seed):
    """{'train','dev'}: source files, split per parent folder (MUSAN's
    free-sound/sound-bible, or one synthetic noise type) so dev holds every
    kind of noise, and by *source file* so no recording is in both."""
    groups = {}
    for p in sorted(Path(p) for p in paths):
        groups.setdefault(p.parent.as_posix(), []).append(p)
    out = {"train": [], "dev": []}
    for gi, (_, files) in enumerate(sorted(groups.items())):
        order = np.random.default_rng([seed, gi]).permutation(len(files))
        n_dev = 0 if len(files) < 2 else max(1, int(round(len(files) * dev_fraction)))
        out["dev"] += [files[i] for i in order[:n_dev]]
        out["train"] += [files[i] for i in order[n_dev:]]
    return out


def cut_clips(src, out_dir, clip_s, min_rms=1e-4):
    """Non-overlapping `clip_s` second clips `<folder>-<stem>-<i>.wav` of one
    recording; near-silent clips (RMS below -80 dB re full scale) are dropped
    because no gain can give them an SNR. Returns (#written, #dropped)."""
    x, _ = read_mono(src, SAMPLE_RATE)
    n = int(round(clip_s * SAMPLE_RATE))
    written = dropped = 0
    for i in range(len(x) // n):
        clip = x[i * n:(i + 1) * n]
        if np.sqrt(np.mean(clip.astype(np.float64) ** 2)) < min_rms:
            dropped += 1
            continue
        write_wav(Path(out_dir) / f"{src.parent.name}-{src.stem}-{i:04d}.wav", clip)
        written += 1
    return written, dropped


def _cut_job(args):
    return cut_clips(*args)


def cut_noise_clips(sources, out_dir, clip_s, dev_fraction, seed, nj=1, log=print):
    """`out_dir/{train,dev}/*.wav`: `clip_s` second clips of the source files
    (rebuilt whole). Returns {split: #clips}; a split without clips is an error."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    counts = {}
    for split, files in split_sources(sources, dev_fraction, seed).items():
        (out_dir / split).mkdir(parents=True)
        with mp.get_context("fork").Pool(max(1, nj)) as pool:
            results = pool.map(_cut_job, [(src, out_dir / split, clip_s) for src in files])
        counts[split] = sum(w for w, _ in results)
        log(f"noise clips {split}: {counts[split]} of {clip_s:g} s from {len(files)} files "
            f"({sum(d for _, d in results)} near-silent dropped)")
        if counts[split] == 0:
            raise DataError(f"no {split} noise clip of {clip_s:g} s: the noise sources are too short")
    return counts
