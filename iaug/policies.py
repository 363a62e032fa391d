"""Mask policies: where in the spectrogram the noise goes.

A policy is called as ``policy(spec_db, rng)`` on the clean [B, F, T] dB
spectrogram and returns the noise mask (1 = full noise, 0 = none). Each arm of
the paper is one policy; the brains do not know which one they run. Policies
that also take ``frame_mask=`` (the [B, T] real-frame mask of a
variable-length batch) get it from the mixer and hand it to the generator.
"""

import inspect

import torch


class AllOnes:
    """Plain noise everywhere: conventional noise and Null ImportantAug."""

    def __call__(self, spec_db, rng=None, frame_mask=None):
        return torch.ones_like(spec_db)


class LearnedMask:
    """The generator's mask, clipped away from 0 and 1 (log m stays finite)."""

    def __init__(self, generator, clip=1e-4):
        self.generator = generator
        self.clip = clip

    def __call__(self, spec_db, rng=None, frame_mask=None):
        if frame_mask is not None and accepts_frame_mask(self.generator):
            mask = self.generator(spec_db, frame_mask=frame_mask)
        else:
            mask = self.generator(spec_db)
        return mask.clamp(self.clip, 1.0 - self.clip)


class RolledMaskOrOnes:
    """The paper's stage B: per batch, with probability ``prob`` the learned
    mask rolled circularly by a shift in [-max_shift, max_shift) along time or
    frequency (chosen at random), otherwise all ones.

    With ``within_lengths=True`` and a ``frame_mask``, a time roll wraps
    around each utterance's real frames (not the padded batch length), so no
    padded frame's mask is rolled into speech."""

    def __init__(self, generator, prob=0.5, max_shift=30, within_lengths=False):
        self.mask = LearnedMask(generator)
        self.prob = prob
        self.max_shift = max_shift
        self.within_lengths = within_lengths

    def __call__(self, spec_db, rng=None, frame_mask=None):
        draws = torch.rand(2, generator=rng, device=_rng_device(rng)).tolist()
        if draws[0] >= self.prob:
            return torch.ones_like(spec_db)
        shift = int(torch.randint(-self.max_shift, self.max_shift, (1,), generator=rng,
                                  device=_rng_device(rng)))
        dim = 1 if draws[1] < 0.5 else 2  # frequency or time
        mask = self.mask(spec_db, frame_mask=frame_mask)
        if dim == 2 and self.within_lengths and frame_mask is not None:
            return roll_within_lengths(mask, shift, frame_mask.sum(-1).round().long())
        return torch.roll(mask, shifts=shift, dims=dim)


class BinarizedMask:
    """The learned mask thresholded per utterance at its ``q``-th percentile:
    1 above it (noise), 0 at or below it (protected)."""

    def __init__(self, generator, q=50.0):
        self.mask = LearnedMask(generator)
        self.q = q

    def __call__(self, spec_db, rng=None, frame_mask=None):
        mask = self.mask(spec_db, frame_mask=frame_mask)
        flat = mask.flatten(1)
        # the q-th percentile, "lower" interpolation: the k-th smallest value
        # (torch.quantile sorts the whole row, about 5x slower here)
        k = int(self.q / 100.0 * (flat.shape[1] - 1)) + 1
        threshold = flat.kthvalue(k, dim=1).values
        return (mask > threshold[:, None, None]).to(mask.dtype)


def roll_within_lengths(mask, shift, lengths):
    """Roll [B, F, T] ``mask`` by ``shift`` along time, circularly within the
    first ``lengths[b]`` frames of each utterance; later frames are kept."""
    frames = torch.arange(mask.shape[-1], device=mask.device)[None, :]
    lengths = lengths.clamp(min=1)[:, None].to(mask.device)
    source = torch.where(frames < lengths, (frames - shift) % lengths, frames)
    return torch.gather(mask, 2, source[:, None, :].expand_as(mask))


def accepts_frame_mask(fn):
    """Whether ``fn`` (a policy, generator or module) takes ``frame_mask=``."""
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return "frame_mask" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _rng_device(rng):
    return rng.device if rng is not None else None
