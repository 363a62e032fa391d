"""Mask policies: where in the spectrogram the noise goes.

A policy is called as ``policy(spec_db, rng)`` on the clean [B, F, T] dB
spectrogram and returns the noise mask (1 = full noise, 0 = none). Each arm of
the paper is one policy; the brains do not know which one they run.
"""

import torch


class AllOnes:
    """Plain noise everywhere: conventional noise and Null ImportantAug."""

    def __call__(self, spec_db, rng=None):
        return torch.ones_like(spec_db)


class LearnedMask:
    """The generator's mask, clipped away from 0 and 1 (log m stays finite)."""

    def __init__(self, generator, clip=1e-4):
        self.generator = generator
        self.clip = clip

    def __call__(self, spec_db, rng=None):
        return self.generator(spec_db).clamp(self.clip, 1.0 - self.clip)


class RolledMaskOrOnes:
    """The paper's stage B: per batch, with probability ``prob`` the learned
    mask rolled circularly by a shift in [-max_shift, max_shift) along time or
    frequency (chosen at random), otherwise all ones."""

    def __init__(self, generator, prob=0.5, max_shift=30):
        self.mask = LearnedMask(generator)
        self.prob = prob
        self.max_shift = max_shift

    def __call__(self, spec_db, rng=None):
        draws = torch.rand(2, generator=rng, device=_rng_device(rng)).tolist()
        if draws[0] >= self.prob:
            return torch.ones_like(spec_db)
        shift = int(torch.randint(-self.max_shift, self.max_shift, (1,), generator=rng,
                                  device=_rng_device(rng)))
        dim = 1 if draws[1] < 0.5 else 2  # frequency or time
        return torch.roll(self.mask(spec_db), shifts=shift, dims=dim)


class BinarizedMask:
    """The learned mask thresholded per utterance at its ``q``-th percentile:
    1 above it (noise), 0 at or below it (protected)."""

    def __init__(self, generator, q=50.0):
        self.mask = LearnedMask(generator)
        self.q = q

    def __call__(self, spec_db, rng=None):
        mask = self.mask(spec_db)
        flat = mask.flatten(1)
        threshold = torch.quantile(flat, self.q / 100.0, dim=1, interpolation="lower")
        return (mask > threshold[:, None, None]).to(mask.dtype)


def _rng_device(rng):
    return rng.device if rng is not None else None
