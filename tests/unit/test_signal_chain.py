"""The offline corpora's signal chain (iaug/data/signal_chain.py): each stage
does what it says, draws are seeded, the chain off changes nothing, and a
tiny keyword corpus with the chain on keeps its layout and bytes."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from scipy import signal

from helpers import ROOT, prepare_kws_data
from iaug.data import signal_chain as sc
from iaug.data.gsc_synth import make_speaker, speaker_clips
from iaug.data.librispeech import make_speaker as asr_speaker, render_utterance

REPO = Path(ROOT)
SR = 16000
ON = sc.settings({"enabled": True, "room": {"rooms": 8}})  # a small bank: the tests stay fast


def speechlike(seconds=1.0, f0=140.0, seed=0):
    """A harmonic tone with formant-ish bumps and a syllable envelope."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k for k in range(1, 40) if f0 * k < 7500)
    env = np.clip(np.sin(np.pi * t / seconds * 3), 0, None) ** 2
    return (0.3 * x * env / np.abs(x).max()).astype(np.float32)


def band_energy(x, lo, hi):
    f, p = signal.welch(x, SR, nperseg=1024)
    return p[(f >= lo) & (f < hi)].sum()


def centroid(x):
    f, p = signal.welch(x, SR, nperseg=1024)
    return (f * p).sum() / p.sum()


def test_settings_off_and_defaults():
    assert sc.settings(None) is None and sc.settings({"enabled": False}) is None
    assert sc.recorded({"enabled": False}) == {"enabled": False}
    s = sc.settings({"enabled": True, "room": {"p": 0.2}})
    assert s["room"]["p"] == 0.2 and s["room"]["rt60"] == sc.DEFAULTS["room"]["rt60"]
    assert sc.recorded({"enabled": True})["version"] == sc.VERSION
    assert "critical_distance" not in sc.DEFAULTS["room"]
    with pytest.raises(ValueError):
        sc.settings({"enabled": True, "room": {"rt_60": 1}})


@pytest.mark.parametrize("recipe", ["gsc_qut/kws", "librispeech/asr"])
def test_yaml_documents_the_defaults(recipe):
    cfg = yaml.safe_load((REPO / "egs" / recipe / "hparams" / "data.yaml").read_text())
    chain = sc.settings({**cfg["signal_chain"], "enabled": True})
    for key, value in chain.items():
        if key != "enabled" and key in cfg["signal_chain"]:
            assert value == sc.DEFAULTS[key], key
    assert cfg["synth"]["tiny"]["signal_chain"] is False and cfg["synth"]["demo"]["signal_chain"] is True


def test_vtlp_keeps_length_and_moves_formants():
    x = speechlike()
    for alpha in (0.85, 1.15):
        y = sc.vtlp(x, alpha)
        assert len(y) == len(x) and y.dtype == np.float32
        assert np.isclose(np.abs(y).max(), np.abs(x).max(), rtol=1e-5)
        ratio = centroid(y) / centroid(x)
        assert (ratio < 0.95) if alpha < 1 else (ratio > 1.05), (alpha, ratio)
    assert np.array_equal(sc.vtlp(x, 1.0), x)


def decay_time(x, drop_db=30):
    """Seconds from the last loud frame until the level fell by `drop_db`."""
    frames = x[: len(x) // 160 * 160].reshape(-1, 160).astype(np.float64)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-20)
    top = int(np.argmax(db))
    below = np.flatnonzero(db[top:] < db[top] - drop_db)
    return (below[0] if len(below) else len(db) - top) * 0.01


def room_settings(**room):
    return sc.settings({"enabled": True, "room": {"rooms": 6, **room}})["room"]


def decay_rt60(h, start):
    """RT60 from Schroeder's backward integral of h[start:] (T20: -5 to -25 dB, x3)."""
    e = np.cumsum((h[start:].astype(np.float64) ** 2)[::-1])[::-1]
    db = 10 * np.log10(e / e[0] + 1e-30)
    return 3 * (np.argmax(db < -25) - np.argmax(db < -5)) / SR


def same_rooms(a, b):
    return len(a) == len(b) and all(
        x.rir.tobytes() == y.rir.tobytes() and (x.direct, x.rt60, x.distance, x.size)
        == (y.direct, y.rt60, y.distance, y.size) for x, y in zip(a, b))


def test_room_bank_is_seeded():
    c = room_settings()
    a = sc.room_bank(c, 3)
    assert len(a) == 6 and sc.room_bank(dict(c), 3) is a  # kept: built once per process
    sc._BANKS.clear()  # built again: the same bytes
    assert same_rooms(sc.room_bank(c, 3), a)
    for other in (sc.room_bank(c, 4), sc.room_bank(room_settings(seed=1), 3)):  # corpus seed, bank seed
        assert not any(np.array_equal(x.rir, y.rir) for x, y in zip(a, other))
    # a bank is the prefix of a larger one; p does not change the rooms
    assert same_rooms(sc.room_bank(room_settings(rooms=2, p=0.1), 3), a[:2])


def test_room_bank_geometry_and_rt60():
    for lo, hi in ((0.15, 0.3), (0.6, 0.8)):
        c = room_settings(rt60=[lo, hi], distance=[1.0, 2.5], seed=7)
        for r in sc.room_bank(c, 0):
            assert lo <= r.rt60 <= hi and 1.0 <= r.distance <= 2.5
            assert all(a <= v <= b for v, a, b in zip(r.size, *c["size"]))
            # the direct path comes first: nothing before it as loud
            assert r.direct == int(np.argmax(np.abs(r.rir[:r.direct + 41]))) <= 40
            # the decay of the reverberant part (after the direct path) is the drawn RT60
            measured = decay_rt60(r.rir, r.direct + 40)
            assert 0.7 * r.rt60 < measured < 1.3 * r.rt60, (r, measured)


def test_reverb_lengthens_the_decay():
    x = np.zeros(SR, np.float32)
    x[2000:4000] = np.random.default_rng(0).standard_normal(2000) * 0.3
    times = [decay_time(x)]
    for rt60 in (0.2, 0.8):
        r = sc.room_bank(room_settings(rt60=[rt60, rt60], distance=[2.0, 2.0], rooms=1), 0)[0]
        y = sc.reverb(x, r.rir, r.direct)
        assert len(y) == len(x) and np.isclose(np.abs(y).max(), np.abs(x).max())
        lag = np.argmax(signal.correlate(y, x, mode="full")) - (len(x) - 1)
        assert lag == 0  # aligned on the direct path
        times.append(decay_time(y))
    assert times[0] <= 0.05 and times[0] < times[1] < times[2], times

    def reverberant_to_direct(distance):
        c = room_settings(rt60=[0.5, 0.5], distance=[distance, distance], size=[[6, 5, 3], [6, 5, 3]],
                          rooms=1)
        r = sc.room_bank(c, 0)[0]
        h = r.rir.astype(np.float64) ** 2
        return h[r.direct + 40:].sum() / h[:r.direct + 40].sum()
    assert reverberant_to_direct(0.5) < reverberant_to_direct(3.0) / 4  # farther: more reverberant


def test_room_draws_from_the_bank():
    x = speechlike()
    cfg = sc.settings({"enabled": True, "room": {"rooms": 4, "p": 1.0}})
    trace = []
    y = sc.room(x, np.random.default_rng(0), cfg, trace, seed=2)
    assert len(y) == len(x) and not np.array_equal(x, y) and trace[0].startswith("room RT60")
    bank = sc.room_bank(cfg["room"], 2)
    assert any(np.array_equal(y, sc.reverb(x, r.rir, r.direct)) for r in bank)
    assert sc.room(x, np.random.default_rng(0), sc.settings({"enabled": True, "room": {"p": 0.0}})) is x


def test_telephone_and_narrowband_remove_high_frequencies():
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    total = band_energy(x, 0, 8000)
    tel = sc.telephone(x)
    assert band_energy(tel, 4000, 8000) < 1e-4 * total      # > 40 dB down above 4 kHz
    assert band_energy(tel, 0, 150) < 1e-3 * total
    assert band_energy(tel, 500, 3000) > 0.5 * band_energy(x, 500, 3000)
    nb = sc.narrowband(x)
    assert len(nb) == len(x) and band_energy(nb, 4100, 8000) < 1e-3 * total


def test_random_band_limits_within_its_ranges_and_off_draws_nothing():
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    y = sc.band_limit(x, 400.0, 3000.0, 4)
    assert len(y) == len(x) and y.dtype == np.float32
    assert band_energy(y, 5000, 8000) < 1e-4 * band_energy(x, 5000, 8000)
    assert band_energy(y, 0, 100) < 1e-3 * band_energy(x, 0, 100)
    assert band_energy(y, 800, 2000) > 0.8 * band_energy(x, 800, 2000)
    on = sc.settings({"enabled": True, "channel": {"eq_p": 0.0, "telephone_p": 0.0, "narrowband_p": 0.0,
                                                   "band_p": 1.0, "band_high": [3000, 3500]}})
    trace = []
    z = sc.channel(x, np.random.default_rng(1), on, trace)
    assert len(trace) == 1 and trace[0].startswith("band ")
    assert band_energy(z, 5000, 8000) < 0.05 * band_energy(x, 5000, 8000)  # even at order 1
    # off (the default): no draw, so the corpora built before the option keep their bytes
    off = sc.settings({"enabled": True, "channel": {"eq_p": 0.0}})
    rng = np.random.default_rng(1)
    sc.channel(x, rng, off)
    assert rng.random() == np.random.default_rng(1).random(4)[3]  # EQ, telephone, 8 kHz: 3 draws


def test_random_eq_changes_the_spectrum_only():
    x = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    cfg = sc.settings({"enabled": True, "channel": {"eq_p": 1.0, "eq_bands": [3, 3]}})
    y = sc.random_eq(x, np.random.default_rng(3), cfg)
    assert len(y) == len(x) and np.all(np.isfinite(y)) and not np.allclose(y, x)
    f, px = signal.welch(x, SR, nperseg=512)
    _, py = signal.welch(y, SR, nperseg=512)
    gain_db = 10 * np.log10(py / px)
    assert np.ptp(gain_db[(f > 100) & (f < 7000)]) > 3        # it colours
    assert np.all(np.abs(gain_db[(f > 100) & (f < 7000)]) < 30)


def test_background_level_in_range():
    x = speechlike()
    for seed in range(5):
        y = sc.background(x, np.random.default_rng(seed), ON)
        snr = 20 * np.log10(sc.active_rms(x) / np.sqrt(np.mean((y - x) ** 2)))
        assert 29.5 < snr < 60.5, snr


def test_level_dc_and_clipping():
    x = speechlike()
    for seed in range(20):
        y = sc.level(x, np.random.default_rng(seed), ON, peak_db=-10)
        assert np.abs(y).max() <= 1.0 and abs(y.mean() - x.mean()) < 0.02
    clip = sc.settings({"enabled": True, "level": {"clip_p": 1.0}})
    y = sc.level(x, np.random.default_rng(0), clip)
    assert np.sum(np.abs(y) >= 0.999) > 10 and np.abs(y).max() <= 1.0
    quiet = sc.settings({"enabled": True, "level": {"clip_p": 0.0, "dc": 0.0}})
    gains = [20 * np.log10(np.abs(sc.level(x, np.random.default_rng(s), quiet, peak_db=-12)).max())
             for s in range(20)]
    assert -18.01 < min(gains) and max(gains) < -5.99


def test_pad_short_keeps_the_word():
    x = np.full(SR, 1e-4, np.float32)
    x[3000:6000] = speechlike(3000 / SR)
    cfg = sc.settings({"enabled": True, "pad": {"p": 1.0, "min_s": 0.5}})
    for seed in range(10):
        y = sc.pad_short(x, np.random.default_rng(seed), cfg)
        end = np.flatnonzero(y)[-1] + 1
        assert len(y) == SR and end >= 8000 and np.all(y[end:] == 0)
        assert np.array_equal(y[:end], x[:end])


def test_chain_is_seeded_and_off_is_identity():
    x = speechlike()
    a = sc.chain(x, np.random.default_rng(7), ON, floor_db=-70, pad=True)
    b = sc.chain(x, np.random.default_rng(7), ON, floor_db=-70, pad=True)
    c = sc.chain(x, np.random.default_rng(8), ON, floor_db=-70, pad=True)
    assert a.tobytes() == b.tobytes() and not np.array_equal(a, c)
    assert len(a) == len(x) and a.dtype == np.float32 and np.abs(a).max() <= 1.0
    assert sc.chain(x, np.random.default_rng(7), None) is x


def test_keyword_clips_with_the_chain():
    off = speaker_clips(make_speaker("0123abcd", 1), 1, 1)
    on = speaker_clips(make_speaker("0123abcd", 1, ON), 1, 1, ON)
    again = speaker_clips(make_speaker("0123abcd", 1, ON), 1, 1, ON)
    assert set(on) == set(off)
    for k in on:
        assert on[k].tobytes() == again[k].tobytes()
        assert len(on[k]) == SR and np.abs(on[k]).max() <= 1.0
    assert not np.array_equal(on["yes", 0], off["yes", 0])
    # chain off: the speaker and clips are those of before the chain existed
    assert make_speaker("0123abcd", 1, None) == make_speaker("0123abcd", 1)


def test_sentences_with_the_chain():
    spk = asr_speaker(4321, 5, ON)
    a = render_utterance(spk, "SET THE TIMER TO TEN MINUTES", 0, 5, ON)
    b = render_utterance(spk, "SET THE TIMER TO TEN MINUTES", 0, 5, ON)
    assert a.tobytes() == b.tobytes() and np.abs(a).max() <= 1.0 and len(a) > SR


def digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_tiny_build_with_chain_same_bytes_any_nj(tmp_path):
    cfg = yaml.safe_load((REPO / "egs/gsc_qut/kws/hparams/data.yaml").read_text())
    cfg["synth"]["tiny"]["signal_chain"] = True
    cfg["signal_chain"]["room"]["rooms"] = 8
    config = tmp_path / "data.yaml"
    config.write_text(yaml.safe_dump(cfg))
    roots = []
    for nj in (1, 2):
        d = tmp_path / f"nj{nj}"
        sc._BANKS.clear()  # each build simulates its rooms, as its own process would
        r = prepare_kws_data("download", "--corpus", "synth", "--preset", "tiny", "--data_dir", d,
                             "--nj", nj, "--config", config)
        assert r.returncode == 0, r.stdout + r.stderr
        roots.append(d / "speech_commands")
    a, b = digests(roots[0]), digests(roots[1])
    assert a == b and len([k for k in a if "_nohash_" in k]) == 8 * 35
    info = sf.info(str(next(roots[0].glob("yes/*.wav"))))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 16000, "PCM_16")
    marker = yaml.safe_load((roots[0].parent / ".done_synth_corpus").read_text())
    assert marker["signal_chain"]["version"] == sc.VERSION
