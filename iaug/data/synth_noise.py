"""Deterministic synthetic noises: the offline stand-ins for MUSAN and QUT,
for both recipes.

Training and test noises are different *types* (as MUSAN and QUT-NOISE are
different recordings), so noisy-test results measure robustness to noise the
recognizer never saw. Every generator takes a numpy Generator and returns
float32 at RMS `LEVEL` (mixing rescales to an SNR anyway).
"""
import multiprocessing as mp
import shutil
from pathlib import Path

import numpy as np

from iaug.data.audio import SAMPLE_RATE, write_wav
from iaug.data.espeak import VARIANTS, VOICES, VoiceProfile, render
from iaug.data.gsc import GSC_LABELS

LEVEL = 0.1  # RMS of generated noise, -20 dB re full scale

# Everyday words for babble, none of them one of the 35 keywords.
BABBLE_WORDS = (
    "table", "window", "water", "morning", "people", "little", "number", "market",
    "garden", "paper", "yellow", "winter", "summer", "coffee", "letter", "station",
    "river", "mountain", "pencil", "orange", "doctor", "kitchen", "silver", "rabbit",
    "bottle", "sugar", "planet", "forest", "engine", "pocket", "ticket", "jacket",
    "monday", "friday", "answer", "question", "maybe", "really", "because", "about",
    "person", "family", "weather", "corner", "travel", "music", "picture", "button",
    "camera", "basket", "candle", "butter", "hammer", "ladder", "carpet", "mirror",
    "pillow", "island", "valley", "village", "thunder", "lemon", "tomato", "potato",
)
assert not set(BABBLE_WORDS) & set(GSC_LABELS)


def _norm(x):
    rms = np.sqrt(np.mean(np.asarray(x, np.float64) ** 2))
    return (x * (LEVEL / rms if rms > 0 else 0.0)).astype(np.float32)


def colored(n, rng, exponent):
    """Gaussian noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0  # no infinite DC for pink/brown
    return _norm(np.fft.irfft(spec * f ** (-exponent / 2), n))


def _band(n, rng, lo_hz, hi_hz):
    """Gaussian noise band-limited to [lo_hz, hi_hz] (FFT mask)."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    return _norm(np.fft.irfft(spec * ((f >= lo_hz) & (f <= hi_hz)), n))


def babble(n, rng, talkers=6):
    """Overlapped synthesized talkers saying words outside the vocabulary."""
    out = np.zeros(n, np.float32)
    for _ in range(talkers):
        profile = VoiceProfile(
            voice=VOICES[rng.integers(len(VOICES))],
            variant=VARIANTS[rng.integers(len(VARIANTS))],
            pitch=int(rng.integers(20, 81)), pitch_range=int(rng.integers(60, 160)),
            rate=int(rng.integers(150, 220)), gain_db=-6.0)
        n_words = int(n / SAMPLE_RATE * profile.rate / 60 * 1.2) + 2
        text = " ".join(BABBLE_WORDS[i] for i in rng.integers(len(BABBLE_WORDS), size=n_words))
        speech = render(text, profile, sr=SAMPLE_RATE)
        talker = np.resize(speech, n) if len(speech) else np.zeros(n, np.float32)
        out += np.roll(talker, int(rng.integers(n))) * np.float32(10 ** (rng.uniform(-6, 0) / 20))
    return _norm(out)


def music(n, rng):
    """Music-like: a few voices of harmonic notes from a pentatonic scale."""
    out = np.zeros(n, np.float64)
    base = 110.0 * 2 ** (rng.integers(12) / 12)
    scale = np.array([0, 2, 4, 7, 9])
    for _ in range(int(rng.integers(2, 4))):
        t0 = 0
        octave = int(rng.integers(0, 3))
        while t0 < n:
            dur = int(SAMPLE_RATE * rng.choice([0.125, 0.25, 0.375, 0.5]))
            step = scale[rng.integers(len(scale))] + 12 * (octave + rng.integers(0, 2))
            f0 = base * 2 ** (step / 12)
            t = np.arange(min(dur, n - t0)) / SAMPLE_RATE
            harmonics = np.arange(1, 6)[:, None]
            note = (np.sin(2 * np.pi * f0 * harmonics * t + rng.uniform(0, 2 * np.pi, (5, 1)))
                    / harmonics).sum(0)
            env = np.exp(-t * rng.uniform(3, 12)) * np.minimum(t / 0.01, 1)
            out[t0:t0 + len(t)] += note * env * rng.uniform(0.3, 1.0)
            t0 += dur
    return _norm(out + 1e-3 * colored(n, rng, 1.0))  # room tone between notes


def hum(n, rng):
    """Mains hum: 50 or 60 Hz with decaying harmonics and a slow level wobble."""
    t = np.arange(n) / SAMPLE_RATE
    f0 = rng.choice([50.0, 60.0]) * rng.uniform(0.995, 1.005)
    x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
            for k in range(1, 16))
    wobble = 1 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t + rng.uniform(0, 2 * np.pi))
    return _norm(x * wobble + 0.02 * colored(n, rng, 1.0))


def transients(n, rng, rate_hz=3.0):
    """Clicks and knocks (decaying noise bursts, damped tones) at random times
    over a quiet room tone, so no stretch is digital silence."""
    out = 0.03 * colored(n, rng, 1.0).astype(np.float64)
    for start in np.sort(rng.integers(0, n, size=max(1, int(rng.poisson(rate_hz * n / SAMPLE_RATE))))):
        length = min(int(SAMPLE_RATE * rng.uniform(0.01, 0.15)), n - start)
        t = np.arange(length) / SAMPLE_RATE
        env = np.exp(-t / rng.uniform(0.003, 0.04)) * 10 ** (rng.uniform(-20, 0) / 20)
        if rng.random() < 0.5:
            burst = rng.standard_normal(length)
        else:
            burst = np.sin(2 * np.pi * rng.uniform(100, 2000) * t)
        out[start:start + length] += burst * env
    return _norm(out)


def appliance(n, rng):
    """A running machine: band noise with slow level changes plus a motor whine."""
    t = np.arange(n) / SAMPLE_RATE
    lo = rng.uniform(100, 600)
    x = _band(n, rng, lo, lo * rng.uniform(2, 4)).astype(np.float64)
    x *= 1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.1, 1.0) * t + rng.uniform(0, 2 * np.pi))
    f = rng.uniform(300, 1500)
    whine = np.sin(2 * np.pi * f * t + 3 * np.sin(2 * np.pi * 0.3 * t)) * LEVEL * rng.uniform(0.1, 0.5)
    return _norm(x + whine)


GENERATORS = {
    "white": lambda n, rng: colored(n, rng, 0.0),
    "pink": lambda n, rng: colored(n, rng, 1.0),
    "brown": lambda n, rng: colored(n, rng, 2.0),
    "babble": babble,
    "music": music,
    "hum": hum,
    "transients": transients,
    "appliance": appliance,
}
TRAIN_TYPES = ("white", "pink", "brown", "babble", "music")  # stand in for MUSAN
TEST_TYPES = ("hum", "transients", "appliance")               # stand in for QUT
assert not set(TRAIN_TYPES) & set(TEST_TYPES)


def make_noise(kind, n, seed):
    """`n` samples of noise type `kind`, fully determined by `seed`."""
    return GENERATORS[kind](n, np.random.default_rng(seed))


def home_mixture(n, seed):
    """The QUT-HOME stand-in: all test types together at random levels."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, np.float32)
    for i, kind in enumerate(TEST_TYPES):
        out += make_noise(kind, n, [seed, i]) * np.float32(10 ** (rng.uniform(-8, 0) / 20))
    return _norm(out)


def noise_floor(n, rng, level_db=-70.0):
    """A recording's noise floor: slightly coloured noise `level_db` dB re full
    scale (RMS). Exact digital silence would give -200 dB spectrogram bins that
    real recordings never have."""
    return colored(n, rng, 0.5) * np.float32(10 ** (level_db / 20) / LEVEL)


def fit_16bit(x):
    """`x` scaled down (never up) to peak at most 0.99: 16 bits, no clipping."""
    return x / max(1.0, np.abs(x).max() / 0.99)


def _source_job(args):
    path, kind, seconds, seed = args
    write_wav(path, fit_16bit(make_noise(kind, int(seconds * SAMPLE_RATE), seed)))


def build_noise_sources(out_dir, sources, source_s, test_noise_s, seed, nj=1):
    """The MUSAN/QUT stand-ins as long recordings:
    `out_dir/train/<type>/<type>_<k>.wav` (train types, 16-bit) and
    `out_dir/test/home.wav` (the test types mixed, float)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    jobs = []
    for i, kind in enumerate(TRAIN_TYPES):
        (out_dir / "train" / kind).mkdir(parents=True)
        jobs += [(out_dir / "train" / kind / f"{kind}_{k:02d}.wav", kind, source_s, [seed, 2000 + i, k])
                 for k in range(sources)]
    with mp.get_context("fork").Pool(max(1, nj)) as pool:
        pool.map(_source_job, jobs)
    (out_dir / "test").mkdir()
    write_wav(out_dir / "test" / "home.wav", home_mixture(int(test_noise_s * SAMPLE_RATE), seed), fmt="float")
