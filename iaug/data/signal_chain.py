"""What real recordings add to clean formant synthesis: the signal chain of
both offline corpora (keywords: `iaug.data.gsc_synth`, sentences:
`iaug.data.librispeech`).

One function per stage, each seeded by the numpy Generator it is given:

* speakers: `vtlp` (vocal-tract length: resample by alpha and time-stretch
  back, so formants AND pitch move by alpha and the duration stays), and
  `wider_profile_ranges` (espeak-ng's extra variants, wider pitch, intonation
  and rate ranges; used by `iaug.data.espeak.draw_profile`);
* rooms: `room_bank` / `reverb` (a seeded bank of shoebox rooms simulated
  once per corpus build by the image method, pyroomacoustics: size, RT60 and
  talker and microphone positions drawn per room; each reverberant clip
  draws one room of the bank);
* backgrounds: `background` (continuous coloured noise or mains hum, a level
  drawn relative to the speech) and `pad_short` (the recording stops before
  1 s and is padded with zeros, as Speech Commands loaders pad short clips);
* channels: `random_eq` (peaking and shelving biquads), `band_limit` (a
  random band: cheap microphones, codecs, lines), `telephone` (300-3400 Hz
  band), `narrowband` (to 8 kHz and back), `level` (gain, DC offset, mild
  clipping).

`chain(x, rng, cfg)` applies them in that order (room, background, channel,
level, padding) to a placed clip; `vtlp` is applied by the corpus builders to
the speech before it is placed. `cfg` is the `signal_chain:` mapping of a
recipe's hparams/data.yaml merged over `DEFAULTS` by `settings`. Disabled
(the default), nothing changes: the corpora keep their former bytes.
"""
import copy
import json
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as taf
from scipy import signal

from iaug.data.audio import SAMPLE_RATE

VERSION = 2  # recorded in the data steps' settings: a change rebuilds the corpus

DEFAULTS = {
    "enabled": False,
    "speakers": {
        "vtlp_p": 0.8,               # probability that a speaker's vocal tract is warped
        "vtlp_alpha": [0.85, 1.15],  # warp factor range (formants and pitch x alpha)
        "vtlp_jitter": 0.02,         # per-take change of alpha (+-)
        "extra_variants": True,      # also espeak-ng's other human-sounding variants
        "pitch": [10, 90],           # base pitch range (espeak 0..99; off: 25..75)
        "pitch_range": [30, 200],    # intonation range in percent (off: 60..160)
        "rate": [110, 250],          # words per minute (off: 140..200)
    },
    "room": {
        "p": 0.6,                    # probability of reverberation
        "rt60": [0.1, 0.8],          # seconds, each room's
        "distance": [0.3, 2.0],      # metres from the talker to the microphone
        "size": [[3.0, 3.0, 2.4], [10.0, 8.0, 4.0]],  # metres, [lows, highs] of length, width, height
        "rooms": 128,                # rooms in the bank, simulated once per corpus build
        "seed": 0,                   # with the corpus seed, seeds the bank: another value, other rooms
    },
    "background": {
        "p": 1.0,                    # probability of a room background (on top of the mic floor)
        "snr_db": [30, 60],          # speech RMS over background RMS
        "hum_p": 0.25,               # background is mains hum (+ some pink noise), else coloured noise
        "exponent": [0.0, 2.0],      # colour of the noise: 0 white .. 2 brown
        "bank_p": 0.0,               # background is a stretch of a recording of the bank (0: off, no draw)
        "bank_kinds": ["babble", "music"],  # ... iaug.data.synth_noise types: people talking, music ...
        "bank_size": 24,             # ... this many recordings, made once per corpus build ...
        "bank_s": 8.0,               # ... of this many seconds each
    },
    "channel": {
        "eq_p": 0.7,                 # probability of a random EQ
        "eq_bands": [1, 4],          # number of biquads
        "eq_gain_db": [-9, 9],       # gain of each biquad
        "telephone_p": 0.1,          # probability of 300-3400 Hz band-limiting
        "narrowband_p": 0.1,         # probability of resampling to 8 kHz and back
        "band_p": 0.0,               # probability of a random band limit (0: off, no draw) ...
        "band_low": [50, 500],       # ... a high-pass at this many Hz ...
        "band_high": [2500, 7500],   # ... and a low-pass at this many Hz ...
        "band_order": [1, 4],        # ... each edge Butterworth of this order
    },
    "level": {
        "gain_db": [-6, 6],          # change of the clip's level
        "dc": 0.005,                 # DC offset range (+-, full scale)
        "clip_p": 0.03,              # probability of mild clipping
        "clip_db": [1, 6],           # how far the peak is driven over full scale
    },
    "pad": {
        "p": 0.2,                    # probability that a keyword clip is cut short (about half
                                     # have room after the word: about 10 % end up shorter)
        "min_s": 0.5,                # and at least this long (never cuts the word)
    },
}

# espeak-ng variants that iaug.data.espeak.VARIANTS leaves out, but sound human
# (robots, announcer, the "fast" test voice and effects left out); whispering
# is real speech.
EXTRA_VARIANTS = ("AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2", "Henrique", "Hugo", "Jacky",
                  "Marco", "Michael", "anika", "croak", "edward2", "iven2", "iven3", "iven4",
                  "kaukovalta", "klatt5", "marcelo", "miguel", "pablo", "sandro", "shelby",
                  "steph2", "steph3", "whisper", "whisperf")


def settings(cfg):
    """`cfg` (a `signal_chain:` mapping, maybe partial, or None) over DEFAULTS;
    None when the chain is off."""
    if not cfg or not cfg.get("enabled", False):
        return None
    out = copy.deepcopy(DEFAULTS)
    for key, value in cfg.items():
        if isinstance(value, dict):
            unknown = set(value) - set(out.get(key, {}))
            if key not in out or unknown:
                raise ValueError(f"signal_chain: unknown option {key}: {sorted(unknown) or value}")
            out[key].update(value)
        elif key in out:
            out[key] = value
        else:
            raise ValueError(f"signal_chain: unknown option {key}")
    return out


def recorded(cfg):
    """What a data step records of the chain (its version and settings)."""
    s = settings(cfg)
    return {"version": VERSION, **s} if s else {"enabled": False}


def _uniform(rng, lo_hi):
    return float(rng.uniform(*lo_hi))


# ---------------------------------------------------------------- speakers
def draw_alpha(rng, cfg):
    """A speaker's vocal-tract warp factor (1.0: none)."""
    sp = cfg["speakers"]
    return _uniform(rng, sp["vtlp_alpha"]) if rng.random() < sp["vtlp_p"] else 1.0


def vtlp(x, alpha, sr=SAMPLE_RATE, n_fft=512, hop=128):
    """Vocal-tract length perturbation by resampling: every frequency (formants
    and pitch) times `alpha`, the duration kept (a phase-vocoder time stretch
    undoes the resampling's change of length). alpha is rounded so the
    polyphase resampling ratio is a ratio of small integers (100 Hz steps)."""
    x = np.asarray(x, np.float32)
    target = int(round(sr / alpha / 100.0) * 100)
    if target == sr or len(x) < n_fft:
        return x.copy()
    g = np.gcd(target, sr)
    y = signal.resample_poly(x.astype(np.float64), target // g, sr // g)  # at sr: frequencies x sr/target
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see iaug.data.audio.resample (forked pools)
    try:
        win = torch.hann_window(n_fft, dtype=torch.float64)
        spec = torch.stft(torch.from_numpy(y.astype(np.float64)), n_fft, hop, window=win,
                          return_complex=True)
        rate = len(y) / len(x)
        advance = torch.linspace(0, np.pi * hop, n_fft // 2 + 1, dtype=torch.float64)[..., None]
        stretched = taf.phase_vocoder(spec, rate, advance)
        out = torch.istft(stretched, n_fft, hop, window=win, length=len(x)).numpy()
    finally:
        torch.set_num_threads(threads)
    peak_in, peak_out = np.abs(x).max(), np.abs(out).max()
    if peak_out > 0:
        out = out * (peak_in / peak_out)  # the profile's peak level stays
    return out.astype(np.float32)


# ---------------------------------------------------------------- rooms
WALL = 0.5          # metres: talker and microphone at least this far from every wall
ROOM_KEY = 0x4007   # in the seeds of the room bank's generators


@dataclass(frozen=True)
class Room:
    rir: np.ndarray     # float32 at SAMPLE_RATE, the 60 dB decay kept
    direct: int         # index of the direct path's peak in rir
    rt60: float         # seconds
    distance: float     # metres, talker to microphone
    size: tuple         # metres, length, width, height


def _shoebox_rir(size, absorption, source, mic, order):
    import pyroomacoustics as pra  # only the bank needs it (about 1 s to import)
    r = pra.ShoeBox(size, fs=SAMPLE_RATE, materials=pra.Material(float(absorption)), max_order=order)
    r.add_source(list(source))
    r.add_microphone(list(mic))
    r.compute_rir()
    return np.asarray(r.rir[0][0], np.float64)


def draw_geometry(rng, c):
    """A room's size, RT60, distance, talker and microphone positions: the
    two at least WALL from the walls and `distance` apart (rooms too small
    for the distance are drawn again)."""
    rt60, distance = _uniform(rng, c["rt60"]), _uniform(rng, c["distance"])
    for _ in range(1000):
        size = rng.uniform(*np.asarray(c["size"], np.float64))
        mic = rng.uniform(WALL, size - WALL)
        v = rng.standard_normal(3)
        source = mic + distance * v / np.linalg.norm(v)
        if np.all(source >= WALL) and np.all(source <= size - WALL):
            return size, rt60, distance, source, mic
    raise ValueError(f"signal_chain: no room of size {c['size']} holds a talker {distance:.1f} m "
                     f"from the microphone, both {WALL} m from the walls")


def simulate_room(rng, c):
    """One room of the bank (`c`: the `room:` settings): image-method RIR of
    a shoebox with uniform absorption, calibrated to the drawn RT60."""
    from pyroomacoustics import constants
    from pyroomacoustics.experimental import measure_rt60
    size, rt60, distance, source, mic = draw_geometry(rng, c)
    speed = constants.get("c")
    volume, surface = np.prod(size), 2 * (size[0] * size[1] + size[0] * size[2] + size[1] * size[2])
    k = 24 * np.log(10) * volume / (speed * surface * rt60)  # Eyring: -ln(1 - absorption) for rt60
    order = int(np.ceil(speed * rt60 / size.min()))         # pra.inverse_sabine's image order
    # A shoebox's image sources decay more slowly than Eyring's diffuse field
    # (paths grazing the larger walls), by up to 1.7x: a cheap lower-order
    # run between far corners measures the decay (T20), and as every image
    # decays as (1 - absorption)^reflections, scaling -ln(1 - absorption) by
    # measured/drawn gives the drawn RT60.
    probe = _shoebox_rir(size, 1 - np.exp(-k), size * [0.2, 0.25, 0.3], size * [0.8, 0.75, 0.6],
                         max(1, int(0.6 * order)))
    measured = measure_rt60(probe, SAMPLE_RATE, decay_db=20)
    if np.isfinite(measured) and measured > 0:
        k *= measured / rt60
    h = _shoebox_rir(size, 1 - np.exp(-k), source, mic, order)
    # the direct path: its travel time, centred in pyroomacoustics' fractional-delay
    # filter; kept from that filter's start (before it, only the travel time and
    # the pre-ringing of pyroomacoustics' zero-phase 10 Hz high-pass)
    half = constants.get("frac_delay_length") // 2
    start = max(int(round(distance / speed * SAMPLE_RATE)), 0)
    h = h[start:]
    energy = np.cumsum((h ** 2)[::-1])[::-1]  # Schroeder's energy decay curve
    end = max(int(np.sum(energy > energy[0] * 1e-6)), half + 1)  # cut after 60 dB of decay
    return Room(h[:end].astype(np.float32), half, rt60, distance, tuple(float(v) for v in size))


_BANKS = {}


def room_bank(c, seed=0):
    """The `c["rooms"]` rooms of the `room:` settings `c` for corpus `seed`
    (room k from its own generator: a bank is a prefix of a larger one).
    Built once per process and kept: a corpus builder builds it before it
    forks its workers, which inherit it; any process builds the same bytes."""
    key = json.dumps([seed, {k: v for k, v in c.items() if k != "p"}], sort_keys=True)
    if key not in _BANKS:
        from pyroomacoustics import constants
        constants.set("num_threads", 1)  # RIR bytes depend on the thread count (summation order)
        _BANKS[key] = tuple(simulate_room(np.random.default_rng([seed, ROOM_KEY, c["seed"], k]), c)
                            for k in range(c["rooms"]))
    return _BANKS[key]


def reverb(x, h, direct=None):
    """`x` convolved with RIR `h`, same length, aligned on the direct path
    (sample `direct` of `h`; default: its largest), scaled to `x`'s peak."""
    direct = int(np.argmax(np.abs(h))) if direct is None else direct
    y = signal.fftconvolve(np.asarray(x, np.float64), np.asarray(h, np.float64))[direct:direct + len(x)]
    peak_in, peak_out = np.abs(x).max(), np.abs(y).max()
    return (y * (peak_in / peak_out if peak_out > 0 else 0)).astype(np.float32)


def room(x, rng, cfg, trace=None, seed=0):
    """`x` in one room of the bank of corpus `seed` (with probability p)."""
    c = cfg["room"]
    if rng.random() >= c["p"]:
        return x
    bank = room_bank(c, seed)
    r = bank[int(rng.integers(len(bank)))]
    _note(trace, f"room RT60 {r.rt60:.2f} s at {r.distance:.1f} m ({'x'.join(f'{v:.0f}' for v in r.size)} m)")
    return reverb(x, r.rir, r.direct)


def _note(trace, text):
    if trace is not None:
        trace.append(text)


# ---------------------------------------------------------------- backgrounds
def _colored(n, rng, exponent):
    from iaug.data.synth_noise import colored
    return colored(n, rng, exponent).astype(np.float64)


def _hum(n, rng, sr=SAMPLE_RATE):
    t = np.arange(n) / sr
    f0 = rng.choice([50.0, 60.0]) * rng.uniform(0.995, 1.005)
    x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
            for k in range(1, 9))
    return x + 0.3 * _colored(n, rng, 1.0) * np.std(x) / 0.1


def active_rms(x, sr=SAMPLE_RATE, frame_s=0.02):
    """RMS of the loudest frames (within 30 dB of the loudest): the speech's level."""
    x = np.asarray(x, np.float64)
    f = int(frame_s * sr)
    frames = x[:len(x) // f * f].reshape(-1, f) if len(x) >= f else x[None]
    e = np.mean(frames ** 2, axis=1)
    if e.max() <= 0:
        return 0.0
    return float(np.sqrt(np.mean(e[e > e.max() * 1e-3])))


BACKGROUND_KEY = 0xB6  # in the seeds of the background bank's recordings


def background_bank(c, seed=0):
    """The background recordings of the `background:` settings `c` for corpus
    `seed` (recording k of kind k mod len(kinds), from its own generator).
    Built once per process, before a corpus builder forks its workers."""
    from iaug.data.synth_noise import make_noise

    key = json.dumps(["background", seed, c["bank_kinds"], c["bank_size"], c["bank_s"]])
    if key not in _BANKS:
        kinds = c["bank_kinds"]
        _BANKS[key] = tuple((kinds[k % len(kinds)], make_noise(kinds[k % len(kinds)], int(c["bank_s"] * SAMPLE_RATE),
                                                               [seed, BACKGROUND_KEY, k]))
                            for k in range(c["bank_size"]))
    return _BANKS[key]


def background(x, rng, cfg, trace=None, seed=0):
    """`x` plus a continuous room background (coloured noise, hum with some
    pink noise, or a stretch of a recording of the background bank: people
    talking, music) at `snr_db` below the speech."""
    c = cfg["background"]
    if rng.random() >= c["p"]:
        return x
    level = active_rms(x)
    if level == 0:
        return x
    n = len(x)
    if c["bank_p"] > 0 and rng.random() < c["bank_p"]:
        bank = background_bank(c, seed)
        kind, rec = bank[int(rng.integers(len(bank)))]
        noise = np.resize(np.roll(rec, -int(rng.integers(len(rec)))), n).astype(np.float64)
    elif rng.random() < c["hum_p"]:
        noise, kind = _hum(n, rng), "hum"
    else:
        e = _uniform(rng, c["exponent"])
        noise, kind = _colored(n, rng, e), f"1/f^{e:.1f} noise"
    snr = _uniform(rng, c["snr_db"])
    _note(trace, f"{kind} {snr:.0f} dB below")
    noise *= level * 10 ** (-snr / 20) / np.sqrt(np.mean(noise ** 2))
    return (x + noise).astype(np.float32)


def speech_end(x, threshold_db=-30.0, frame=160):
    """Index after the last 10 ms frame whose energy is within `threshold_db`
    of the loudest frame's (the background stays 30 dB or more below)."""
    x = np.asarray(x, np.float64)
    n = len(x) // frame
    if n == 0:
        return len(x)
    e = np.mean(x[:n * frame].reshape(n, frame) ** 2, axis=1)
    loud = np.flatnonzero(e > e.max() * 10 ** (threshold_db / 10)) if e.max() > 0 else []
    return min(len(x), (int(loud[-1]) + 1) * frame) if len(loud) else 0


def pad_short(x, rng, cfg, sr=SAMPLE_RATE, trace=None):
    """Sometimes the recording stops early: zeros from a point between the end
    of the speech (+50 ms) and the end, at least `min_s` in (a Speech
    Commands loader pads a short file with zeros to 1 s)."""
    c = cfg["pad"]
    if rng.random() >= c["p"]:
        return x
    lo = max(speech_end(x) + int(0.05 * sr), int(c["min_s"] * sr))
    if lo >= len(x) - 1:
        return x
    out, end = x.copy(), int(rng.integers(lo, len(x)))
    out[end:] = 0
    _note(trace, f"zero-padded after {end / sr:.2f} s")
    return out


# ---------------------------------------------------------------- channels
def peaking(f0, gain_db, q, sr=SAMPLE_RATE):
    """RBJ-cookbook peaking biquad (b, a)."""
    a_ = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    al = np.sin(w) / (2 * q)
    b = [1 + al * a_, -2 * np.cos(w), 1 - al * a_]
    a = [1 + al / a_, -2 * np.cos(w), 1 - al / a_]
    return np.array(b) / a[0], np.array(a) / a[0]


def shelf(f0, gain_db, high, sr=SAMPLE_RATE, s=1.0):
    """RBJ-cookbook low (high=False) or high shelf biquad (b, a)."""
    a_ = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    al = np.sin(w) / 2 * np.sqrt((a_ + 1 / a_) * (1 / s - 1) + 2)
    cw, sq = np.cos(w), 2 * np.sqrt(a_) * al
    sign = -1 if high else 1
    b = [a_ * ((a_ + 1) - sign * (a_ - 1) * cw + sq), 2 * sign * a_ * ((a_ - 1) - sign * (a_ + 1) * cw),
         a_ * ((a_ + 1) - sign * (a_ - 1) * cw - sq)]
    a = [(a_ + 1) + sign * (a_ - 1) * cw + sq, -2 * sign * ((a_ - 1) + sign * (a_ + 1) * cw),
         (a_ + 1) + sign * (a_ - 1) * cw - sq]
    return np.array(b) / a[0], np.array(a) / a[0]


def random_eq(x, rng, cfg, sr=SAMPLE_RATE, trace=None):
    """A microphone's colouring: a few random peaking and shelving biquads."""
    c = cfg["channel"]
    if rng.random() >= c["eq_p"]:
        return x
    y = np.asarray(x, np.float64)
    bands = int(rng.integers(c["eq_bands"][0], c["eq_bands"][1] + 1))
    _note(trace, f"EQ ({bands} biquads)")
    for _ in range(bands):
        kind, gain = int(rng.integers(3)), _uniform(rng, c["eq_gain_db"])
        if kind == 0:
            b, a = peaking(float(np.exp(rng.uniform(np.log(150), np.log(6000)))), gain,
                           float(rng.uniform(0.5, 3.0)), sr)
        else:
            f0 = float(rng.uniform(80, 400)) if kind == 1 else float(rng.uniform(2000, 6000))
            b, a = shelf(f0, gain, high=kind == 2, sr=sr)
        y = signal.lfilter(b, a, y)
    return y.astype(np.float32)


TELEPHONE_BAND = (300.0, 3400.0)




def narrowband(x, sr=SAMPLE_RATE):
    """To 8 kHz and back (an anti-aliasing low-pass at 3.8 kHz, as a codec's,
    then polyphase resampling): nothing above about 4 kHz is left."""
    g = np.gcd(8000, sr)
    sos = signal.butter(10, 3800, btype="lowpass", fs=sr, output="sos")
    y = signal.sosfiltfilt(sos, np.asarray(x, np.float64))
    y = signal.resample_poly(y, 8000 // g, sr // g)
    return signal.resample_poly(y, sr // g, 8000 // g)[:len(x)].astype(np.float32)


def band_limit(x, low, high, order, sr=SAMPLE_RATE):
    """A `low`-`high` Hz band: each edge Butterworth of `order`, zero phase
    (so twice as steep)."""
    sos = signal.butter(order, [low, high], btype="bandpass", fs=sr, output="sos")
    return signal.sosfiltfilt(sos, np.asarray(x, np.float64)).astype(np.float32)


def telephone(x, sr=SAMPLE_RATE):
    """300-3400 Hz band-pass (8th-order Butterworth edges, zero phase)."""
    return band_limit(x, *TELEPHONE_BAND, 8, sr)


def channel(x, rng, cfg, trace=None):
    c = cfg["channel"]
    x = random_eq(x, rng, cfg, trace=trace)
    # no draw when off: the corpora built before this option keep their bytes
    if c["band_p"] > 0 and rng.random() < c["band_p"]:
        low, high = _uniform(rng, c["band_low"]), _uniform(rng, c["band_high"])
        order = int(rng.integers(c["band_order"][0], c["band_order"][1] + 1))
        x = band_limit(x, low, high, order)
        _note(trace, f"band {low:.0f}-{high:.0f} Hz (order {order})")
    if rng.random() < c["telephone_p"]:
        x = telephone(x)
        _note(trace, "telephone band")
    if rng.random() < c["narrowband_p"]:
        x = narrowband(x)
        _note(trace, "8 kHz and back")
    return x


def level(x, rng, cfg, peak_db=None, trace=None):
    """Gain (`gain_db` around the peak `peak_db`, default the clip's own), a
    DC offset and, sometimes, mild clipping at full scale. Never above 1."""
    c = cfg["level"]
    x = np.asarray(x, np.float64)
    peak = np.abs(x).max()
    if peak == 0:
        return x.astype(np.float32)
    target = 10 ** (peak_db / 20) if peak_db is not None else peak
    target *= 10 ** (_uniform(rng, c["gain_db"]) / 20)
    dc = float(rng.uniform(-c["dc"], c["dc"]))
    if rng.random() < c["clip_p"]:
        target = 10 ** (_uniform(rng, c["clip_db"]) / 20)  # driven over full scale
        _note(trace, f"clipped ({20 * np.log10(target):.1f} dB over)")
    else:
        target = min(target, 0.99 - abs(dc))
    return np.clip(x * (target / peak) + dc, -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- the chain
def chain(x, rng, cfg, floor_db=None, pad=False, trace=None, seed=0):
    """Room, background, channel, the microphone's own noise floor at
    `floor_db` dB re full scale (`iaug.data.synth_noise.noise_floor`, when
    given), level (and, for a keyword clip, `pad`: a recording shorter than the
    clip). `cfg`: `settings(...)`; None returns `x` unchanged. `trace`: a
    list that gets one line per stage that changed the clip (figures).
    `seed`: the corpus's, which with the room seed picks the room bank."""
    if cfg is None:
        return x
    x = np.asarray(x, np.float32)
    peak_db = 20 * np.log10(max(float(np.abs(x).max()), 1e-9))
    x = room(x, rng, cfg, trace, seed)
    x = background(x, rng, cfg, trace, seed)
    x = channel(x, rng, cfg, trace)
    if floor_db is not None:
        from iaug.data.synth_noise import noise_floor
        x = x + noise_floor(len(x), rng, floor_db)
    x = level(x, rng, cfg, peak_db, trace)
    if pad:
        x = pad_short(x, rng, cfg, trace=trace)
    return x


def wider_profile_ranges(cfg):
    """{pitch, pitch_range, rate: (lo, hi)} and the extra variants of the
    speaker stage, for `iaug.data.espeak.draw_profile`; None when off."""
    if cfg is None:
        return None
    sp = cfg["speakers"]
    return {"pitch": tuple(sp["pitch"]), "pitch_range": tuple(sp["pitch_range"]),
            "rate": tuple(sp["rate"]), "extra_variants": EXTRA_VARIANTS if sp["extra_variants"] else ()}
