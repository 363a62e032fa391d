"""Training-noise clips (MUSAN `noise/` or the synthetic sources) and the QUT
home recording for GSC-QUT."""
import multiprocessing as mp
import shutil
from pathlib import Path

import numpy as np

from iaug.data.audio import read_mono, resample, write_wav

SR = 16000


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


def cut_clips(src, out_dir, prefix, min_rms=1e-4):
    """Non-overlapping 1 s clips of one recording; near-silent clips (RMS
    below -80 dB re full scale) are dropped because no gain can give them an
    SNR. Returns (#written, #dropped)."""
    x, sr = read_mono(src)
    x = resample(x, sr, SR)
    written = dropped = 0
    for i in range(len(x) // SR):
        clip = x[i * SR:(i + 1) * SR]
        if np.sqrt(np.mean(clip.astype(np.float64) ** 2)) < min_rms:
            dropped += 1
            continue
        write_wav(Path(out_dir) / f"{prefix}-{i:04d}.wav", clip, SR)
        written += 1
    return written, dropped


def _cut_job(args):
    return cut_clips(*args)


def cut_noise_clips(sources, out_dir, dev_fraction, seed, nj=1, log=print):
    """`out_dir/{train,dev}/*.wav`: 1 s 16 kHz clips of the source files."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    counts = {}
    for split, files in split_sources(sources, dev_fraction, seed).items():
        (out_dir / split).mkdir(parents=True)
        jobs = [(src, out_dir / split, f"{src.parent.name}-{src.stem}") for src in files]
        with mp.get_context("fork").Pool(max(1, nj)) as pool:
            results = pool.map(_cut_job, jobs)
        counts[split] = sum(w for w, _ in results)
        log(f"noise clips {split}: {counts[split]} from {len(files)} files "
            f"({sum(d for _, d in results)} near-silent dropped)")
    return counts


def load_qut_home(path):
    """A QUT-NOISE recording (48 kHz stereo) as 16 kHz mono float32."""
    x, sr = read_mono(path)
    return resample(x, sr, SR)
