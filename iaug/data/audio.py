"""Audio I/O of iaug: the one sample rate, the reader for training and
scoring, the reader, resampler and writer for corpus preparation.

WAV files are written with our own 44-byte header so that the same samples
always give the same bytes (libsndfile stamps a time into float files).

Bad audio, as :func:`read_audio` treats it (the same in training, iaug-eval,
iaug-plot and ``ImportantAugClassifier.classify_file``):

* missing: ``FileNotFoundError``; unreadable, empty, NaN or infinite
  samples: :class:`AudioError`; each a one-line message naming the file;
* not at the expected rate, or not mono: an :class:`AudioError` for training
  data and prepared test sets (a corpus must be consistent); resampled and
  downmixed (mean of the channels) with a warning naming the file for a
  user's own files (``convert=True``);
* shorter than :data:`MIN_SAMPLES` (the STFT window): zero-padded to it, with
  a warning, as Speech Commands loaders pad short clips;
* a truncated WAV (its header declares more frames than the file holds): read
  as far as it goes, with a warning (the manifest stage lists it as bad).
"""
import logging
import os
import struct

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as taf

SAMPLE_RATE = 16000  # of every corpus, network and noise file in iaug
# The paper's STFT window (n_fft): a shorter clip cannot be reflect-padded by
# the STFT (torch fails with a long traceback), so readers zero-pad to it.
MIN_SAMPLES = 512

logger = logging.getLogger(__name__)
_warned = set()  # each warning once per process: streamed sets are reread every epoch


class AudioError(ValueError):
    """A bad audio file; the one-line message names it."""


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)


def read_audio(path, sample_rate=SAMPLE_RATE, convert=False):
    """Mono float32 waveform tensor of a file at ``sample_rate``, at least
    :data:`MIN_SAMPLES` long (see the module's notes on bad audio).

    ``convert=False`` (training data, prepared test sets): a file at another
    rate or with several channels is an error. ``convert=True`` (a user's own
    files): it is resampled and downmixed, with a warning naming the file.
    """
    try:
        wav, sr = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as err:
        if not os.path.exists(path):  # libsndfile says only "System error."
            raise FileNotFoundError(f"audio file not found: {path}") from None
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise AudioError(f"cannot read audio file {path}: {reason}") from None
    if wav.shape[0] == 0:
        raise AudioError(f"audio file {path} is empty")
    missing = truncation(path, wav.shape[0])
    if missing:  # else scored silently as a shorter clip
        _warn_once(f"audio file {path} is truncated ({missing}): reading what it holds")
    if not np.isfinite(wav).all():  # else a confident class from a NaN spectrogram
        raise AudioError(f"audio file {path} has NaN or infinite samples")
    if wav.shape[1] > 1:
        if not convert:
            raise AudioError(f"audio file {path} has {wav.shape[1]} channels, expected mono")
        _warn_once(f"audio file {path} has {wav.shape[1]} channels: averaged to mono")
    x = wav.mean(axis=1) if wav.shape[1] > 1 else wav[:, 0].copy()
    if sr != sample_rate:
        if not convert:
            raise AudioError(f"audio file {path} is {sr} Hz, expected {sample_rate} Hz")
        _warn_once(f"audio file {path} is {sr} Hz: resampled to {sample_rate} Hz")
        x = resample(x, sr, sample_rate)
    if len(x) < MIN_SAMPLES:
        _warn_once(f"audio file {path} has {len(x)} samples, fewer than the {MIN_SAMPLES}-sample "
                   "STFT window: zero-padded to it")
        x = np.pad(x, (0, MIN_SAMPLES - len(x)))
    return torch.from_numpy(x)


def truncation(path, frames):
    """'header declares N frames, file holds M' when a WAV file holds fewer
    than the ``frames`` its header declares (libsndfile clamps its count to the
    bytes present and reads such a file without complaint), else None."""
    declared = declared_frames(path)
    if declared is not None and declared > frames:
        return f"header declares {declared} frames, file holds {frames}"
    return None


def declared_frames(path):
    """Frames the header of a WAV file declares, or None (not a RIFF WAV, or a
    streamed one of unknown length). Compared with the frames read, it finds a
    truncated file, which libsndfile reads without complaint."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"data":
                return size // block if block and size not in (0, 0xFFFFFFFF) else None
            if kind == b"fmt ":
                body = f.read(size + size % 2)
                block = struct.unpack("<H", body[12:14])[0] if len(body) >= 14 else None
            else:
                f.seek(size + size % 2, 1)  # chunks are padded to even sizes


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
