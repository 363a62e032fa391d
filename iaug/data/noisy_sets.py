"""Noisy copies of a clean test set at fixed SNRs (both recipes).

For every test file a seeded stretch (the file's length) of one long noise
recording is scaled by mean power to the target SNR and added. The stretch
depends only on (seed, relative path), so the SNR copies differ only in noise
level. Mixtures are written as 32-bit float WAV: no clipping and no 16-bit
rounding, so the SNR measured back from the files is the target SNR.
"""
import hashlib
import multiprocessing as mp
import shutil
from pathlib import Path

import numpy as np

from iaug.data.audio import read_mono, write_wav

_NOISE = None  # the long noise, shared with forked workers without copying


def snr_tag(snr):
    """-12.5 -> 'snr-12.5', 10.0 -> 'snr10'."""
    snr = float(snr)
    return f"snr{int(snr)}" if snr.is_integer() else f"snr{snr:g}"


def noise_stretch(noise, n, seed, rel):
    """The seeded `n`-sample stretch of `noise` used for test file `rel`."""
    rng = np.random.default_rng([seed, int(hashlib.sha1(rel.encode()).hexdigest()[:12], 16)])
    if len(noise) < n:
        noise = np.resize(noise, n)
    for _ in range(100):  # a digitally silent stretch has no level to scale
        start = int(rng.integers(0, len(noise) - n + 1))
        seg = noise[start:start + n]
        if np.any(seg):
            return seg
    raise ValueError(f"noise is silent everywhere tried for {rel}")


def mix_at_snr(clean, noise, snr_db):
    """clean + g*noise with mean(clean^2) / mean((g*noise)^2) = 10^(snr/10)."""
    p_s = np.mean(clean.astype(np.float64) ** 2)
    p_n = np.mean(noise.astype(np.float64) ** 2)
    g = np.sqrt(p_s / (p_n * 10 ** (snr_db / 10)))
    return (clean + g * noise).astype(np.float32)


def clear_noisy_sets(out_root, name):
    """Remove every `<name>_snr*` set (also of SNRs no longer configured)."""
    for d in Path(out_root).glob(f"{name}_snr*"):
        shutil.rmtree(d)


def _job(args):
    clean_root, out_root, name, rels, snrs, seed = args
    silent = 0
    for rel in rels:
        clean, sr = read_mono(Path(clean_root) / rel)
        seg = noise_stretch(_NOISE, len(clean), seed, rel)
        if not np.any(clean):
            silent += 1  # SNR undefined: keep the clip as it is
        for snr in snrs:
            out = Path(out_root) / f"{name}_{snr_tag(snr)}" / Path(rel).with_suffix(".wav")
            out.parent.mkdir(parents=True, exist_ok=True)
            write_wav(out, clean if not np.any(clean) else mix_at_snr(clean, seg, snr), sr, fmt="float")
    return silent


def make_noisy_sets(clean_root, rel_paths, noise, out_root, name, snrs, seed, nj=1, chunk=200):
    """Write `out_root/<name>_snr<snr>/<rel>` (suffix .wav) for every rel path
    and SNR, after removing the old `<name>_snr*` sets. Returns the number of
    silent clean files (copied without noise)."""
    global _NOISE
    clear_noisy_sets(out_root, name)
    _NOISE = np.asarray(noise, dtype=np.float32)
    rel_paths = sorted(rel_paths)
    jobs = [(str(clean_root), str(out_root), name, rel_paths[i:i + chunk], list(snrs), seed)
            for i in range(0, len(rel_paths), chunk)]
    try:
        with mp.get_context("fork").Pool(max(1, nj)) as pool:
            return sum(pool.map(_job, jobs))
    finally:
        _NOISE = None
