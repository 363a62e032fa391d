"""Audio reader, resampler, WAV writer, espeak rendering, noise floor, SNR mixing
and audio held in memory."""
import os

import numpy as np
import pytest
import soundfile as sf
import torch

from iaug.data.audio import read_audio, resample, write_wav
from iaug.data.espeak import VoiceProfile, render
from iaug.data.noisy_sets import make_noisy_sets, snr_tag
from iaug.data.synth_noise import noise_floor


def test_resample_keeps_a_tone():
    for sr_in in (22050, 48000, 8000):
        t = np.arange(sr_in) / sr_in
        y = resample(np.sin(2 * np.pi * 1000 * t), sr_in, 16000)
        assert len(y) == 16000
        ref = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)
        assert np.max(np.abs(y - ref)[200:-200]) < 2e-3, sr_in


def test_resample_removes_what_cannot_be_kept():
    t = np.arange(48000) / 48000
    y = resample(np.sin(2 * np.pi * 12000 * t), 48000, 16000)  # above the new Nyquist
    assert np.sqrt(np.mean(y[200:-200] ** 2)) < 1e-3


def test_read_audio_mono_float32_and_one_line_errors(tmp_path):
    x = (0.5 * np.sin(np.arange(1000) * 0.05)).astype(np.float32)
    write_wav(tmp_path / "ok.wav", x, fmt="float")
    y = read_audio(str(tmp_path / "ok.wav"))
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32 and y.dim() == 1
    assert np.array_equal(y.numpy(), x)
    (tmp_path / "bad.wav").write_bytes(b"RIFF not audio")
    write_wav(tmp_path / "empty.wav", np.zeros(0))
    write_wav(tmp_path / "8k.wav", x, sr=8000)
    for name, why in (("bad.wav", "cannot read"), ("empty.wav", "empty"), ("8k.wav", "8000 Hz")):
        with pytest.raises(ValueError) as err:
            read_audio(str(tmp_path / name))
        assert name in str(err.value) and why in str(err.value) and "\n" not in str(err.value)
    assert read_audio(str(tmp_path / "8k.wav"), sample_rate=8000).shape == (1000,)


def test_wav_roundtrip_and_bytes(tmp_path):
    x = (0.5 * np.sin(np.arange(1000) * 0.05)).astype(np.float32)
    write_wav(tmp_path / "a.wav", x)
    write_wav(tmp_path / "b.wav", x, fmt="float")
    a, sr = sf.read(str(tmp_path / "a.wav"), dtype="float32")
    b, _ = sf.read(str(tmp_path / "b.wav"), dtype="float32")
    assert sr == 16000 and np.max(np.abs(a - x)) <= 1 / 32768 and np.array_equal(b, x)
    assert sf.info(str(tmp_path / "a.wav")).subtype == "PCM_16"
    write_wav(tmp_path / "c.wav", x, fmt="float")
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "c.wav").read_bytes()


def test_render_is_deterministic_and_placed():
    p = VoiceProfile(variant="f3", pitch=60, pitch_range=120, rate=170, gain_db=-10, position=0.0)
    a, b = render("seven", p, length=16000), render("seven", p, length=16000)
    assert a.dtype == np.float32 and len(a) == 16000 and np.array_equal(a, b)
    assert abs(20 * np.log10(np.abs(a).max()) + 10) < 0.01
    late = render("seven", VoiceProfile(variant="f3", pitch=60, pitch_range=120, rate=170,
                                        gain_db=-10, position=1.0), length=16000)
    assert np.argmax(np.abs(a) > 0.01) < np.argmax(np.abs(late) > 0.01)
    sentence = render("the quick brown fox jumps over the lazy dog", p)
    assert len(sentence) > 16000


def test_noise_floor_level():
    x = noise_floor(16000, np.random.default_rng(0), -70)
    assert abs(10 * np.log10(np.mean(x.astype(np.float64) ** 2)) + 70) < 0.01


def test_snr_kept_without_clipping(tmp_path):
    """A loud clip at -12.5 dB and a quiet one at 40 dB: mixtures beyond full
    scale and below 16-bit resolution both keep their SNR."""
    rng = np.random.default_rng(1)
    clean = tmp_path / "clean"
    (clean / "yes").mkdir(parents=True)
    write_wav(clean / "yes/loud.wav", np.clip(0.9 * rng.standard_normal(16000), -0.99, 0.99))
    write_wav(clean / "yes/quiet.wav", 3e-4 * rng.standard_normal(16000))
    snrs = (-12.5, 40)
    make_noisy_sets(clean, ["yes/loud.wav", "yes/quiet.wav"], rng.standard_normal(50000),
                    tmp_path / "out", "qut", snrs, seed=0, nj=1)
    for snr in snrs:
        for name in ("loud", "quiet"):
            c, _ = sf.read(str(clean / f"yes/{name}.wav"), dtype="float64")
            n, _ = sf.read(str(tmp_path / "out" / f"qut_{snr_tag(snr)}" / f"yes/{name}.wav"), dtype="float64")
            assert abs(10 * np.log10(np.mean(c ** 2) / np.mean((n - c) ** 2)) - snr) < 0.1
    assert snr_tag(-12.5) == "snr-12.5" and snr_tag(10) == "snr10"


def test_render_words_one_piece_per_word(monkeypatch):
    from iaug.data import espeak
    p = VoiceProfile(voice="en-gb", variant="m3", rate=150)
    words = ["yes", "sheila", "backward", "two"]
    pieces = espeak.render_words(words, p, length=16000)
    assert len(pieces) == 4 and all(len(x) == 16000 and np.abs(x).max() > 0.1 for x in pieces)
    alone = [len(espeak.trim(render(w, p), 16000)) for w in words]
    assert np.argmax(alone) == 2  # "backward" is the longest word either way
    monkeypatch.setattr(espeak, "split_on_zeros", lambda x, gap: [x])  # a cut gone wrong
    assert [len(x) for x in espeak.render_words(words, p)] == [len(render(w, p)) for w in words]


def test_in_memory_serves_the_files_samples(toy_corpus):
    from iaug.dataio import audio_dataset
    from iaug.tasks import KeywordSpotting

    manifest = os.path.join(toy_corpus, "manifests", "train.csv")
    task = KeywordSpotting(["backward", "bed", "bird", "cat"])
    streamed = audio_dataset(manifest, task)
    held = audio_dataset(manifest, task, in_memory=True)
    for i in range(len(streamed)):
        assert torch.equal(streamed[i]["sig"], held[i]["sig"])
