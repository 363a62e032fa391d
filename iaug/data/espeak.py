"""Deterministic speech from espeak-ng, described by a `VoiceProfile`.

Used for the synthesized keyword corpus (one word placed in a 1 s clip) and
reusable for sentences (variable length, `length=None`).
"""
import io
import shutil
import subprocess
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from iaug.data.audio import resample

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


def synthesize(text, profile):
    """Raw espeak-ng output: (float32 samples, sample rate)."""
    if shutil.which(ESPEAK) is None:
        raise RuntimeError("espeak-ng not found: install it (apt-get install espeak-ng)")
    ssml = f'<speak><prosody range="{int(profile.pitch_range)}%">{escape(text)}</prosody></speak>'
    cmd = [ESPEAK, "-m", "-z", "-v", profile.espeak_voice(), "-p", str(int(profile.pitch)),
           "-s", str(int(profile.rate)), "-a", str(AMPLITUDE), "--stdout", ssml]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    x, sr = sf.read(io.BytesIO(out), dtype="float32")
    return x, sr


def trim(x, threshold_db=-45.0, margin=320):
    """Cut leading/trailing samples quieter than threshold_db re the peak."""
    peak = np.max(np.abs(x)) if len(x) else 0.0
    if peak == 0:
        return x[:0]
    loud = np.nonzero(np.abs(x) > peak * 10 ** (threshold_db / 20))[0]
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


def render(text, profile, sr=16000, length=None):
    """Speak `text` with `profile`: float32 at `sr`, silence trimmed, peak at
    profile.gain_db; placed into `length` samples when given. Deterministic."""
    x, sr_in = synthesize(text, profile)
    x = trim(resample(x, sr_in, sr))
    peak = np.max(np.abs(x)) if len(x) else 0.0
    if peak > 0:
        x = x * np.float32(10 ** (profile.gain_db / 20) / peak)
    if length is not None:
        x = place(x, length, profile.position)
    return x.astype(np.float32)
