"""Deterministic speech from espeak-ng, described by a `VoiceProfile`.

Used for the synthesized keyword corpus (one word placed in a 1 s clip) and
reusable for sentences (variable length, `length=None`).
"""
import io
import shutil
import subprocess
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from iaug.data.audio import SAMPLE_RATE, resample

ESPEAK = "espeak-ng"
# espeak-ng's own English accents (the mbrola ones need extra binaries)
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
          "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
# human-sounding variants; robots, whisper and very slow ones left out
VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3",
            "f4", "f5", "klatt", "klatt2", "klatt3", "klatt4", "klatt6", "adam",
            "Alex", "Alicia", "Andrea", "Andy", "Annie", "antonio", "aunty",
            "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward",
            "gustave", "grandma", "grandpa", "iven", "john", "linda", "max",
            "michel", "norbert", "paul", "pedro", "quincy", "rob", "robert",
            "steph", "travis", "victor", "zac", "Lee", "Mario", "Mike", "Nguyen")
# espeak-ng amplitude (0..200): loud variants clip at the default 100 and even at 60
AMPLITUDE = 25


@dataclass(frozen=True)
class VoiceProfile:
    voice: str = "en-us"      # espeak-ng language/accent voice (-v)
    variant: str = ""         # espeak-ng variant, e.g. "f3" (-v voice+variant)
    pitch: int = 50           # base pitch 0..99 (-p)
    pitch_range: int = 100    # intonation range in percent (SSML prosody range)
    rate: int = 175           # words per minute (-s)
    gain_db: float = -6.0     # peak level of the result in dB re full scale
    position: float = 0.5     # where speech sits in a fixed-length clip: 0 start, 1 end

    def espeak_voice(self):
        return f"{self.voice}+{self.variant}" if self.variant else self.voice


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker of either corpus: a voice and a "microphone"."""
    id: object                # GSC: 8 hex digits; LibriSpeech: a number
    profile: VoiceProfile
    floor_db: float           # the noise floor, dB re full scale (RMS)
    chapter: int = 0          # LibriSpeech's chapter folder
    alpha: float = 1.0        # vocal-tract warp of the signal chain (1: none)


def voice_pool(voices=None, variants=None, extra_variants=()):
    """(accents, variants) a corpus draws its speakers from: all of espeak-ng's
    (VOICES; VARIANTS and `extra_variants`) unless narrowed to the lists
    given (a corpus without some voices, or with only those)."""
    pools = []
    for name, given, known in (("voices", voices, VOICES),
                               ("variants", variants, VARIANTS + tuple(extra_variants))):
        if given is None:
            pools.append(known)
            continue
        unknown = sorted(set(given) - set(known))
        if unknown or not given:
            raise ValueError(f"synth {name}: {unknown or 'an empty list'} not among {list(known)}")
        pools.append(tuple(given))
    return tuple(pools)


def draw_profile(rng, wide=None, voices=None, variants=None):
    """A speaker's usual voice, drawn from `rng` (voice, variant, pitch,
    range, rate, level; in that order, which fixes the corpora's bytes).

    `wide`: the signal chain's speaker stage
    (`iaug.data.signal_chain.wider_profile_ranges`): {pitch, pitch_range,
    rate: (lo, hi)} and `extra_variants` drawn from as well; None keeps the
    former ranges (and bytes). `voices`, `variants`: lists narrowing the
    accents and variants drawn from (`voice_pool`)."""
    pitch, prange, rate = (25, 75), (60, 160), (140, 200)
    if wide is not None:
        pitch, prange, rate = wide["pitch"], wide["pitch_range"], wide["rate"]
    accents, variants = voice_pool(voices, variants, wide["extra_variants"] if wide else ())
    return VoiceProfile(
        voice=accents[rng.integers(len(accents))],
        variant=variants[rng.integers(len(variants))],
        pitch=int(rng.integers(pitch[0], pitch[1] + 1)),
        pitch_range=int(rng.integers(prange[0], prange[1] + 1)),
        rate=int(rng.integers(rate[0], rate[1] + 1)),
        gain_db=float(rng.uniform(-20, -3)))


def vary_take(profile, rng):
    """The speaker on one recording: pitch, range and rate a little off the
    usual (nobody says a thing twice the same way)."""
    return replace(
        profile,
        pitch=int(np.clip(profile.pitch + rng.integers(-4, 5), 0, 99)),
        pitch_range=int(np.clip(profile.pitch_range + rng.integers(-10, 11), 20, 200)),
        rate=int(np.clip(profile.rate + rng.integers(-12, 13), 100, 260)))


def synthesize(ssml_body, profile):
    """Raw espeak-ng output for SSML `ssml_body`: (float32 samples, sample rate)."""
    if shutil.which(ESPEAK) is None:
        raise RuntimeError("espeak-ng not found: install it (apt-get install espeak-ng)")
    ssml = f'<speak><prosody range="{int(profile.pitch_range)}%">{ssml_body}</prosody></speak>'
    cmd = [ESPEAK, "-m", "-z", "-v", profile.espeak_voice(), "-p", str(int(profile.pitch)),
           "-s", str(int(profile.rate)), "-a", str(AMPLITUDE), "--stdout", ssml]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    x, sr = sf.read(io.BytesIO(out), dtype="float32")
    return x, sr


def trim(x, sr, threshold_db=-45.0, margin_s=0.02):
    """Cut leading/trailing samples quieter than threshold_db re the peak."""
    peak = np.max(np.abs(x)) if len(x) else 0.0
    if peak == 0:
        return x[:0]
    loud = np.nonzero(np.abs(x) > peak * 10 ** (threshold_db / 20))[0]
    margin = int(margin_s * sr)
    return x[max(loud[0] - margin, 0):loud[-1] + margin + 1]


def place(x, length, position):
    """Put `x` into `length` zeros, `position` (0..1) of the free space in.

    Speech longer than the clip keeps its first `length` samples with a 10 ms
    fade, as a word cut by the end of a recording would sound.
    """
    out = np.zeros(length, dtype=np.float32)
    if len(x) > length:
        x = x[:length].copy()
        fade = min(160, length)
        x[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    start = int(round(float(np.clip(position, 0, 1)) * (length - len(x))))
    out[start:start + len(x)] = x
    return out


def _finish(x, sr_in, profile, sr, length):
    """Trim (before resampling: less to resample), resample, set the peak, place."""
    x = resample(trim(x, sr_in), sr_in, sr)
    peak = np.max(np.abs(x)) if len(x) else 0.0
    if peak > 0:
        x = x * np.float32(10 ** (profile.gain_db / 20) / peak)
    if length is not None:
        x = place(x, length, profile.position)
    return x.astype(np.float32)


def render(text, profile, sr=SAMPLE_RATE, length=None):
    """Speak `text` with `profile`: float32 at `sr`, silence trimmed, peak at
    profile.gain_db; placed into `length` samples when given. Deterministic."""
    x, sr_in = synthesize(escape(text), profile)
    return _finish(x, sr_in, profile, sr, length)


def split_on_zeros(x, min_gap):
    """Stretches of `x` separated by at least `min_gap` exact zeros."""
    nonzero = np.concatenate([[False], x != 0, [False]])
    edges = np.flatnonzero(np.diff(nonzero.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]  # each run of nonzero samples
    segments, seg_start = [], None
    for i, (s, e) in enumerate(zip(starts, ends)):
        seg_start = s if seg_start is None else seg_start
        if i + 1 == len(starts) or starts[i + 1] - e >= min_gap:
            segments.append(x[seg_start:e])
            seg_start = None
    return segments


def render_words(words, profile, sr=SAMPLE_RATE, length=None, gap_s=0.6):
    """`render` of each word, from ONE espeak-ng run (starting espeak-ng costs
    ten times more than speaking a word). espeak's SSML breaks are exact
    zeros, so the words are cut apart there; should the cut ever not give one
    piece per word, each word is rendered on its own instead."""
    body = "".join(f'{escape(w)}.<break time="{int(gap_s * 1000)}ms"/>' for w in words)
    x, sr_in = synthesize(body, profile)
    pieces = split_on_zeros(x, int(gap_s / 2 * sr_in))
    if len(pieces) != len(words):
        return [render(w, profile, sr, length) for w in words]
    return [_finish(p, sr_in, profile, sr, length) for p in pieces]
