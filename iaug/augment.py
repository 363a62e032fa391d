"""ImportantAug as a drop-in waveform augmentation for any SpeechBrain recipe.

Waveforms in, waveforms out: the batch goes through the STFT, the frozen
generator's mask (shaped by a policy of :mod:`iaug.policies`) places the noise
with :class:`iaug.mixing.NoiseMixer`, and the inverse STFT brings it back, so
the recipe's own front end (fbank, MFCC, SSL encoder, ...) is untouched::

    augment: !new:iaug.augment.ImportantAug
        generator: exp/generator          # experiment folder, .ckpt or authors' .pt
        noise_bank: data/manifests/noise_train.csv
        snr_db: -12.5

    # iaug's RecognizerBrain applies it in training as `wav_augment`; in
    # a Brain of your own, in compute_forward, training stage only:
    wavs = self.hparams.augment(wavs, wav_lens)
"""

import os

import torch

from iaug.checkpoints import freeze, load_weights
from iaug.mixing import NoiseBank, NoiseMixer
from iaug.models import STFT, MaskGenerator
from iaug.policies import AllOnes, BinarizedMask, LearnedMask, RolledMaskOrOnes
from iaug.hparams import saved_hparams, snr_range

POLICIES = ("rolled", "learned", "binarized", "ones")


def load_generator(source):
    """A frozen :class:`MaskGenerator` from a module, an experiment folder, an
    exported model folder, a ``generator.ckpt`` or the authors' checkpoint."""
    if isinstance(source, torch.nn.Module):
        return freeze(source)
    source = os.fspath(source)
    packaged = os.path.join(source, "generator.ckpt")
    generator = MaskGenerator()
    load_weights(generator, packaged if os.path.isfile(packaged) else source, "generator")
    return freeze(generator)


def generator_top_db(source):
    """The dB floor (``top_db``) the generator of ``source`` was trained to
    read: the ``stft`` of its experiment or exported model folder's
    hyperparams.yaml; None (the paper's raw dB) for the authors' checkpoint,
    a bare ``.ckpt`` or a module."""
    if isinstance(source, torch.nn.Module):
        return None
    stft = saved_hparams(source).get("stft")
    return stft.get("top_db") if hasattr(stft, "get") else None


def make_policy(policy, generator, q=50.0, prob=0.5, max_shift=30):
    """Policy object from its name (``rolled`` is the paper's stage B)."""
    if not isinstance(policy, str):
        return policy
    if policy == "ones":
        return AllOnes()
    if generator is None:
        raise ValueError(f"policy '{policy}' needs a generator")
    if policy == "rolled":
        return RolledMaskOrOnes(generator, prob=prob, max_shift=max_shift)
    if policy == "learned":
        return LearnedMask(generator)
    if policy == "binarized":
        return BinarizedMask(generator, q=q)
    raise ValueError(f"unknown policy '{policy}': use one of {', '.join(POLICIES)} or a policy object")


def check_settings(snr_db, q, prob, max_shift, sample_rate):
    """One-line ValueErrors for the settings the recipes' hparams check too."""
    import math

    if isinstance(snr_db, (list, tuple)):
        snr_range(snr_db)
    elif not isinstance(snr_db, (int, float)) or isinstance(snr_db, bool) or not math.isfinite(snr_db):
        raise ValueError(f"snr_db: a finite number or a range [low, high] in dB, got {snr_db!r}")
    if not 0 < q <= 100:
        raise ValueError(f"q: a percentile in (0, 100], got {q!r}")
    if not 0 <= prob <= 1:
        raise ValueError(f"prob: a probability in [0, 1], got {prob!r}")
    if not isinstance(max_shift, int) or max_shift < 1:
        raise ValueError(f"max_shift: a whole number of bins or frames >= 1, got {max_shift!r}")
    if sample_rate != 16000:
        raise ValueError(f"sample_rate: ImportantAug's generator reads 16 kHz audio (its 512-point "
                         f"STFT), got {sample_rate}: resample the waveforms to 16 kHz first")


class ImportantAug(torch.nn.Module):
    """Adds noise where a trained generator says speech is unimportant.

    Arguments
    ---------
    generator : MaskGenerator, str or None
        The trained generator, or where to load it from (see
        :func:`load_generator`). Only ``policy="ones"`` works without one.
    noise_bank : NoiseBank or str
        Noise clips, or a noise manifest (csv with a ``wav`` column).
    snr_db : float or [low, high]
        SNR of the unmasked noise (the paper: -12.5 dB), or a range drawn
        from per utterance.
    policy : str or callable
        ``rolled`` (default, paper's stage B: per batch, rolled mask with
        probability ``prob``, else plain noise), ``learned`` (the mask as is),
        ``binarized`` (mask thresholded at its ``q``-th percentile), ``ones``
        (plain noise), or any ``policy(spec_db, rng) -> mask`` object.
    seed : int or None
        Seeds a private random generator: the same seed and inputs give the
        same outputs. ``None`` draws from torch's global generator (which
        SpeechBrain's ``seed_everything`` seeds).
    per_utterance_gain : bool
        One SNR gain per utterance (default) or per batch (authors' code).
    n_fft, hop_length, top_db
        STFT of the generator (512 / 128 for the paper's 257-bin generator).
        ``top_db="auto"`` (default) reads the generator's front-end as it was
        trained (:func:`generator_top_db`): a generator trained with the KWS
        recipe's stable front-end reads dB floored 80 dB below each
        utterance's peak; None is the paper's raw dB (see
        :class:`iaug.models.STFT`).
    sample_rate : int
        16000: the generator reads 16 kHz waveforms (other rates are
        refused; resample first), and the noise files are read at it.
    """

    def __init__(self, generator=None, noise_bank=None, snr_db=-12.5, policy="rolled", q=50.0,
                 prob=0.5, max_shift=30, seed=None, per_utterance_gain=True, n_fft=512,
                 hop_length=128, top_db="auto", sample_rate=16000):
        super().__init__()
        check_settings(snr_db, q, prob, max_shift, sample_rate)
        if noise_bank is None:
            raise ValueError("ImportantAug needs a noise_bank (NoiseBank or noise manifest)")
        if not isinstance(noise_bank, NoiseBank):
            noise_bank = NoiseBank.from_csv(os.fspath(noise_bank), sample_rate)
        if top_db == "auto":
            top_db = None if generator is None else generator_top_db(generator)
        self.stft = STFT(n_fft, hop_length, top_db=top_db)
        self.generator = None if generator is None else load_generator(generator)
        # A (non-persistent) buffer so that .to(device) moves the noise too; the
        # bank object shared with the mixer is pointed at it in forward().
        self.register_buffer("noise_clips", noise_bank.clips, persistent=False)
        self.mixer = NoiseMixer(noise_bank, snr_db,
                                make_policy(policy, self.generator, q, prob, max_shift),
                                per_utterance_gain)
        self.seed = seed
        self.rng = None
        self.reset(seed)

    def reset(self, seed=None):
        """Restart the private random stream (``seed`` or the constructor's)."""
        seed = self.seed if seed is None else seed
        # A CPU generator gives the same draws whatever device the audio is on.
        self.rng = None if seed is None else torch.Generator("cpu").manual_seed(int(seed))

    def train(self, mode=True):
        super().train(mode)
        if self.generator is not None:
            self.generator.eval()  # always frozen, also inside a Brain's modules
        return self

    def forward(self, wavs, lengths=None):
        """[B, samples] (or [samples]) -> noisy waveforms of the same shape.

        ``lengths`` are SpeechBrain relative lengths; samples past each
        utterance's length are returned unchanged.
        """
        # no_grad inside, not as a decorator: SpeechBrain's Augmenter inspects
        # forward's arguments to decide whether to pass ``lengths``.
        with torch.no_grad():
            return self._augment(wavs, lengths)

    def _augment(self, wavs, lengths):
        squeeze = wavs.ndim == 1
        wavs = wavs.unsqueeze(0) if squeeze else wavs
        if wavs.ndim != 2:
            raise ValueError(f"ImportantAug expects [batch, samples] waveforms, got {tuple(wavs.shape)}")
        if not torch.isfinite(wavs).all():
            raise ValueError("ImportantAug: the waveforms hold NaN or infinite samples")
        if self.noise_clips.device != wavs.device:
            self.to(wavs.device)  # used from hparams without being in the Brain's modules
        self.mixer.noise_bank.clips = self.noise_clips
        batch, num_samples = wavs.shape
        if lengths is None:
            lengths = torch.ones(batch, device=wavs.device)
        lengths = lengths.to(wavs.device)
        spec = self.stft(wavs.float())
        frame_mask = self.stft.frame_mask(lengths, spec.shape[-1])
        noisy, _ = self.mixer(self.stft, spec, self.stft.db(spec), frame_mask, self.rng)
        out = self.stft.inverse(noisy, num_samples).to(wavs.dtype)
        # Frames overlap the padding, so keep it exactly as it came in.
        real = torch.arange(num_samples, device=wavs.device)[None, :] < torch.round(
            lengths * num_samples)[:, None]
        out = torch.where(real, out, wavs)
        return out.squeeze(0) if squeeze else out
