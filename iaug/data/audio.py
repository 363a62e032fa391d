"""Audio I/O of iaug: the one sample rate, the reader for training and
scoring, the reader, resampler and writer for corpus preparation.

WAV files are written with our own 44-byte header so that the same samples
always give the same bytes (libsndfile stamps a time into float files).
"""
import os
import struct

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taf

SAMPLE_RATE = 16000  # of every corpus, network and noise file in iaug


def read_audio(path, sample_rate=SAMPLE_RATE):
    """Mono float32 waveform tensor of a file for training and scoring; a
    one-line error names the file on any problem."""
    try:
        wav, sr = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"cannot read audio file {path}: {reason}") from None
    if sr != sample_rate:
        raise ValueError(f"audio file {path} is {sr} Hz, expected {sample_rate} Hz")
    if wav.shape[0] == 0:
        raise ValueError(f"audio file {path} is empty")
    return torch.from_numpy(wav[:, 0].copy())


def resample(x, sr_in, sr_out):
    """float32 numpy `x` from `sr_in` to `sr_out` Hz with torchaudio's
    Kaiser-windowed sinc, set as our former numpy resampler was (16 zero
    crossings, cutoff 0.945 of the lower Nyquist, beta 8.6). Same input, same
    bytes, whatever the number of threads."""
    x = np.asarray(x, dtype=np.float32)
    if sr_in == sr_out:
        return x.copy()
    # One torch thread: the corpus builders fork worker pools (--nj), and a
    # child forked after torch started its OpenMP thread team deadlocks in its
    # first parallel region (measured: a tiny build with --nj 2 hung).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        y = taf.resample(torch.from_numpy(x), int(sr_in), int(sr_out), lowpass_filter_width=16,
                         rolloff=0.945, resampling_method="sinc_interp_kaiser", beta=8.6)
    finally:
        torch.set_num_threads(threads)
    return y.numpy()


def read_mono(path, sample_rate=None):
    """(float32 samples in [-1, 1), sample rate) of any audio file for corpus
    preparation, channels averaged; resampled to `sample_rate` when given."""
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sample_rate is not None and sr != sample_rate:
        x, sr = resample(x, sr, sample_rate), sample_rate
    return x, sr


def write_wav(path, x, sr=SAMPLE_RATE, fmt="pcm16"):
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
