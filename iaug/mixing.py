"""Noise bank and noise mixing in the complex STFT domain.

X_noisy = X + s * (m * N), with s the gain that puts the *unmasked* noise N
at the target SNR against the speech X, so that a mask m < 1 lowers the noise
energy below that SNR instead of renormalising it.
"""

import logging

import numpy as np
import torch

from speechbrain.dataio.dataio import load_data_csv

from iaug.data.audio import SAMPLE_RATE, read_audio
from iaug.hparams import snr_range
from iaug.policies import AllOnes, BinarizedMask, LearnedMask, accepts_frame_mask

logger = logging.getLogger(__name__)


def masked_power(spec, frame_mask=None):
    """Mean |spec|^2 per utterance over bins and real frames -> [B]."""
    # each frame's energy in one pass over the real view, no |spec| in between
    energy = torch.linalg.vector_norm(torch.view_as_real(spec), dim=(1, 3)).square()
    if frame_mask is None:
        return energy.mean(1) / spec.shape[1]
    return (energy * frame_mask).sum(1) / (frame_mask.sum(1) * spec.shape[1])


def snr_gain(speech_spec, noise_spec, snr_db, frame_mask=None, per_utterance=True):
    """Gain s [B, 1, 1] putting ``noise_spec`` at ``snr_db`` against ``speech_spec``.

    ``snr_db`` is a float or a [B] tensor. With ``per_utterance=False`` one gain
    is shared by the batch (the authors' code): mean powers over the batch.
    """
    p_speech = masked_power(speech_spec, frame_mask)
    p_noise = masked_power(noise_spec, frame_mask)
    if not per_utterance:
        p_speech = p_speech.mean().expand_as(p_speech)
        p_noise = p_noise.mean().expand_as(p_noise)
    # a number is filled in on the device: no host tensor copied there each step
    snr = (torch.as_tensor(snr_db, dtype=p_speech.dtype, device=p_speech.device)
           if torch.is_tensor(snr_db) else p_speech.new_full((), snr_db))
    gain = torch.sqrt(p_speech / (p_noise.clamp(min=1e-20) * 10.0 ** (snr / 10.0)))
    return gain[:, None, None]


class NoiseBank:
    """Noise clips held in memory as one [num_clips, clip_len] tensor.

    Sampling is a gather: no file access or Python loop per utterance. A
    sampled segment starts at a random offset of a random clip and wraps
    around inside that clip, so any requested length can be served.
    """

    def __init__(self, clips):
        if clips.ndim != 2 or clips.shape[0] == 0:
            raise ValueError(f"noise bank needs [num_clips, samples] clips, got {tuple(clips.shape)}")
        self.clips = clips.float()

    @classmethod
    def from_csv(cls, csv_path, sample_rate=SAMPLE_RATE, max_clips=None):
        """Read every ``wav`` of a manifest once; clips are cut/tiled to the first one's length."""
        paths = [row["wav"] for row in load_data_csv(csv_path).values()]
        if not paths:
            raise ValueError(f"noise manifest {csv_path} lists no files")
        paths = paths[:max_clips] if max_clips else paths
        clips = [read_audio(path, sample_rate).numpy() for path in paths]
        length = len(clips[0])
        clips = [np.resize(c, length) if len(c) else np.zeros(length, "float32") for c in clips]
        logger.info("noise bank: %d clips of %d samples from %s", len(clips), length, csv_path)
        return cls(torch.from_numpy(np.stack(clips)))

    def __len__(self):
        return self.clips.shape[0]

    def to(self, device):
        self.clips = self.clips.to(device)
        return self

    def draw(self, batch_size, rng=None):
        """The clip and start offset of each of ``batch_size`` segments: all
        that :meth:`sample` draws from ``rng`` (a torch.Generator)."""
        num_clips, clip_len = self.clips.shape
        dev = self.clips.device
        gen_dev = rng.device if rng is not None else dev
        idx = torch.randint(num_clips, (batch_size,), generator=rng, device=gen_dev).to(dev)
        start = torch.randint(clip_len, (batch_size, 1), generator=rng, device=gen_dev).to(dev)
        return idx, start

    def sample(self, batch_size, num_samples, rng=None):
        """[batch_size, num_samples] noise segments (``rng``: a torch.Generator)."""
        idx, start = self.draw(batch_size, rng)
        clip_len = self.clips.shape[1]
        copies = -(-(clip_len + num_samples - 1) // clip_len)  # of a clip, to hold any segment
        if clip_len * copies <= 4 * num_samples:
            # clips not much longer than a segment: each drawn clip repeated,
            # its segment a window of it (no index per sample: 5x faster)
            rows = self.clips[idx].repeat(1, copies)
            return rows.unfold(1, num_samples, 1)[torch.arange(batch_size, device=idx.device),
                                                  start[:, 0]]
        pos = (start + torch.arange(num_samples, device=self.clips.device)) % clip_len
        return self.clips[idx[:, None], pos]


class NoiseMixer:
    """Adds bank noise to a batch of complex spectrograms, shaped by a mask policy.

    Arguments
    ---------
    noise_bank : NoiseBank
    snr_db : float or [low, high]
        Target SNR of the unmasked noise. A pair draws one SNR per utterance,
        uniform in dB, from ``rng`` (multi-condition training: loud noise,
        where a mask has labels to protect, and mild noise, which keeps clean
        accuracy, in the same run).
    policy : callable or None
        ``policy(spec_db, rng) -> mask`` in [0, 1], same shape as the spectrogram
        (see :mod:`iaug.policies`); ``None`` adds plain noise (all-ones mask).
    per_utterance_gain : bool
        One gain per utterance (default) or one per batch (the authors' code).
    """

    def __init__(self, noise_bank, snr_db, policy=None, per_utterance_gain=True):
        self.noise_bank = noise_bank
        self.snr_db = snr_range(snr_db) if isinstance(snr_db, (list, tuple)) else snr_db
        self.policy = policy
        self.per_utterance_gain = per_utterance_gain

    def __call__(self, stft, spec, spec_db, frame_mask=None, rng=None):
        """Return (noisy complex spectrogram, mask applied to the noise).
        ``spec_db`` (the clean dB spectrogram the policy reads) may be None
        for plain noise (no policy)."""
        batch, bins, frames = spec.shape
        if self.noise_bank.clips.device != spec.device:
            self.noise_bank.to(spec.device)
        noise = stft(self.noise_bank.sample(batch, (frames - 1) * stft.hop_length, rng))
        if self.policy is None:  # one value per frame, broadcast over the bins
            mask = (frame_mask[:, None, :] if frame_mask is not None
                    else spec.real.new_ones(batch, 1, frames))
        elif frame_mask is not None and accepts_frame_mask(self.policy):
            mask = self.policy(spec_db, rng, frame_mask=frame_mask)
        else:
            mask = self.policy(spec_db, rng)
        if frame_mask is not None and self.policy is not None:
            mask = mask * frame_mask[:, None, :]
        gain = snr_gain(spec, noise, self.draw_snr(batch, rng, spec.device), frame_mask,
                        self.per_utterance_gain)
        # in the real view: the real mask is not promoted to a complex copy
        scaled = (gain * mask)[..., None] * torch.view_as_real(noise)
        return torch.view_as_complex(torch.view_as_real(spec) + scaled), mask.expand(batch, bins, frames)

    def draw_snr(self, batch, rng=None, device=None):
        """The SNR: the fixed one, or one per utterance drawn from ``rng``."""
        snr = self.snr_db
        if isinstance(snr, tuple):
            gen_dev = rng.device if rng is not None else device
            draw = torch.rand(batch, generator=rng, device=gen_dev).to(device)
            snr = snr[0] + (snr[1] - snr[0]) * draw
        return snr

    @property
    def skippable(self):
        """Whether :meth:`skip` can stand in for a call: its policy draws nothing."""
        return self.policy is None or isinstance(self.policy, (AllOnes, LearnedMask, BinarizedMask))

    def skip(self, batch, rng):
        """Advance ``rng`` exactly as a call on a batch of ``batch`` utterances
        would, without its work: a dev batch that another rank scores."""
        if not self.skippable:
            raise ValueError(f"noise_mixer: policy {type(self.policy).__name__} draws from the "
                             "generator, a batch's draws cannot be skipped")
        self.noise_bank.draw(batch, rng)
        self.draw_snr(batch, rng, self.noise_bank.clips.device)
