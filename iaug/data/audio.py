"""Plain audio I/O and resampling in numpy (no torch, no sox).

WAV files are written with our own 44-byte header so that the same samples
always give the same bytes (libsndfile stamps a time into float files).
"""
import os
import struct
from math import gcd

import numpy as np
import soundfile as sf


def resample(x, sr_in, sr_out, zeros=16, rolloff=0.945, beta=8.6, chunk=32768):
    """Band-limited rational resampling with a Kaiser-windowed sinc filter bank.

    Output sample n sits at input time n*down/up; the filter for each of the
    `up` possible fractional offsets is precomputed once (polyphase).
    """
    x = np.asarray(x, dtype=np.float32)
    if sr_in == sr_out:
        return x.copy()
    g = gcd(int(sr_in), int(sr_out))
    up, down = int(sr_out) // g, int(sr_in) // g
    # cutoff in cycles per input sample, below the lower of the two Nyquists
    fcut = 0.5 * min(1.0, up / down) * rolloff
    half = int(np.ceil(zeros / (2 * fcut)))
    taps = np.arange(-half + 1, half + 1)
    t = taps[None, :] - np.arange(up)[:, None] / up
    window = np.i0(beta * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, None))) / np.i0(beta)
    bank = 2 * fcut * np.sinc(2 * fcut * t) * window
    bank = (bank / bank.sum(axis=1, keepdims=True)).astype(np.float32)  # unit DC gain
    n_out = int(np.ceil(len(x) * up / down))
    xp = np.pad(x, (half, half + 1))
    y = np.empty(n_out, dtype=np.float32)
    for start in range(0, n_out, chunk):
        n = np.arange(start, min(start + chunk, n_out), dtype=np.int64)
        base, phase = np.divmod(n * down, up)
        y[start:start + len(n)] = np.einsum(
            "ij,ij->i", xp[base[:, None] + taps[None, :] + half], bank[phase])
    return y


def read_mono(path):
    """Return (float32 samples in [-1, 1), sample rate), channels averaged."""
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return x.mean(axis=1), sr


def write_wav(path, x, sr=16000, fmt="pcm16"):
    """Write mono `x` as 16-bit PCM ("pcm16") or 32-bit float ("float") WAV.

    Written to a temporary name and renamed, so an interrupted build never
    leaves a truncated file under the final name.
    """
    x = np.asarray(x, dtype=np.float32)
    if fmt == "pcm16":
        data = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2").tobytes()
        tag, bits = 1, 16
    elif fmt == "float":
        data = x.astype("<f4").tobytes()
        tag, bits = 3, 32
    else:
        raise ValueError(f"unknown wav format {fmt!r}")
    block = bits // 8
    header = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, tag, 1, sr, sr * block, block, bits)
              + b"data" + struct.pack("<I", len(data)))
    path = str(path)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header + data)
    os.replace(tmp, path)


def power_db(x):
    """Mean power in dB (re full scale); -inf for silence."""
    p = float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) if len(x) else 0.0
    return 10 * np.log10(p) if p > 0 else -np.inf
