"""Front-ends: what the networks read.

Noise is mixed in the complex STFT domain, so :class:`STFT` hands out the
complex spectrogram and, separately, the dB magnitude that the recognizers and
the generator read. :class:`LogMel` turns that dB magnitude into normalised
log-mel features for the speech recognizer (differentiable, so the generator
learns through it).
"""

import math

import torch
from speechbrain.dataio.dataio import length_to_mask
from speechbrain.processing.features import Filterbank


class _Decibels(torch.autograd.Function):
    """20 log10(max(|X|, amin)) of the real view [..., 2] of a complex X,
    floored ``top_db`` below each utterance's loudest bin unless ``top_db``
    is None. |X| is the hypotenuse of the parts: the same values as ``abs``,
    three times as fast on a CPU. The gradient is autograd's in a third of
    its passes: a floored bin's goes to the floor, so to the loudest bin; a
    bin with |X| < amin gets none."""

    @staticmethod
    def forward(ctx, parts, amin, top_db):
        mag = torch.hypot(parts[..., 0], parts[..., 1])
        spec_db = 20.0 * torch.log10(mag.clamp(min=amin))
        peak = None
        if top_db is not None:
            peak = spec_db.flatten(1).amax(1)[:, None, None]
            spec_db = torch.maximum(spec_db, peak - top_db)
        ctx.save_for_backward(parts, mag, spec_db, peak)
        ctx.amin, ctx.top_db = amin, top_db
        return spec_db

    @staticmethod
    def backward(ctx, grad):
        parts, mag, spec_db, peak = ctx.saved_tensors
        if peak is not None:
            floored = spec_db == peak - ctx.top_db
            to_floor = torch.where(floored, grad, 0.0).flatten(1).sum(1)
            loudest = spec_db == peak
            share = to_floor / loudest.flatten(1).sum(1)
            grad = torch.where(floored, 0.0, grad) + loudest * share[:, None, None]
        # d(20 log10 |X|) / dX = 20 / ln(10) * X / |X|^2
        scale = torch.where(mag >= ctx.amin, grad * (20.0 / math.log(10.0)) / mag.square(), 0.0)
        return parts * scale[..., None], None, None


def magnitude_db(spec, amin=1e-10, top_db=None):
    """20 log10(max(|X|, amin)) of a complex spectrogram, floored ``top_db``
    below each utterance's loudest bin when ``top_db`` is set."""
    return _Decibels.apply(torch.view_as_real(spec), amin, top_db)


class STFT(torch.nn.Module):
    """Complex STFT (Hann window, centred, reflect padding) and its inverse.

    Arguments
    ---------
    n_fft : int
        FFT size; 512 gives 257 frequency bins.
    hop_length : int
        Hop in samples; 128 gives 126 frames for one second at 16 kHz.
    amin : float
        Magnitude floor of the dB conversion.
    top_db : float or None
        None (the paper's): no further floor, so bins of digital silence or of
        an empty band hold FFT round-off (about -200 dB) that a change of
        1e-7 in the samples moves by tens of dB. A number: each utterance's
        dB floored ``top_db`` below its loudest bin (as librosa's and
        SpeechBrain's ``top_db``), a well-conditioned input.
    """

    def __init__(self, n_fft=512, hop_length=128, amin=1e-10, top_db=None):
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.amin = amin
        self.top_db = top_db
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wavs):
        """[B, samples] float -> [B, n_fft // 2 + 1, frames] complex."""
        # torch.stft hands out a transposed view: every later pass (the dB,
        # the mixing with a [B, F, T] mask, the networks) runs faster on the
        # contiguous copy than on the strided view
        return torch.stft(wavs, self.n_fft, hop_length=self.hop_length, window=self.window,
                          center=True, pad_mode="reflect", return_complex=True).contiguous()

    def inverse(self, spec, length):
        """Complex spectrogram -> waveform of ``length`` samples."""
        return torch.istft(spec, self.n_fft, hop_length=self.hop_length, window=self.window,
                           center=True, length=length)

    def db(self, spec):
        """Magnitude in dB: 20 log10(max(|X|, amin)), floored ``top_db`` below
        each utterance's loudest bin when ``top_db`` is set."""
        return magnitude_db(spec, self.amin, self.top_db)

    def frame_mask(self, rel_lengths, num_frames):
        """[B, T] float mask of the frames that hold real (unpadded) audio.

        ``rel_lengths`` are SpeechBrain relative lengths (1.0 = longest).
        """
        valid = torch.round(rel_lengths * num_frames).clamp(1, num_frames)
        return length_to_mask(valid, num_frames, dtype=torch.float)


class LogMel(torch.nn.Module):
    """Log-mel features of a dB magnitude spectrogram, normalised per utterance.

    |X|^2 = 10^(dB/10) goes through SpeechBrain's triangular mel
    ``Filterbank``; then 10 log10, floored ``top_db`` below the utterance's
    loudest real bin, and mean and variance normalisation over the
    utterance's real frames. Padded frames come out as zeros.

    Input [B, F, T] dB and [B, T] frame mask; output [B, T, n_mels].
    """

    def __init__(self, n_mels=40, n_fft=512, sample_rate=16000, top_db=80.0, normalize=True):
        super().__init__()
        # SpeechBrain's frozen Filterbank builds its matrix on the CPU and copies
        # it to the input's device in every forward: built once here (its
        # output for the identity is the matrix itself), a buffer that follows
        # the module's device and dtype and stays out of the state dict
        fbank = Filterbank(n_mels=n_mels, n_fft=n_fft, sample_rate=sample_rate,
                           log_mel=False, freeze=True)
        self.register_buffer("fbank_matrix", fbank(torch.eye(n_fft // 2 + 1)), persistent=False)
        self.top_db = top_db
        self.normalize = normalize

    def forward(self, spec_db, frame_mask):
        power = torch.pow(10.0, spec_db.transpose(1, 2) / 10.0)
        weights = frame_mask[:, :, None]
        feats = 10.0 * torch.log10(torch.matmul(power, self.fbank_matrix).clamp(min=1e-10))
        if self.top_db is not None:
            loudest = torch.where(weights > 0, feats, torch.full_like(feats, -1e4))
            floor = loudest.amax(dim=(1, 2), keepdim=True) - self.top_db
            feats = torch.maximum(feats, floor)
        if self.normalize:
            count = weights.sum(1, keepdim=True).clamp(min=1.0)
            mean = (feats * weights).sum(1, keepdim=True) / count
            var = ((feats - mean).square() * weights).sum(1, keepdim=True) / count
            feats = (feats - mean) / torch.sqrt(var + 1e-5)
        return feats * weights
