"""Noise mixing in the STFT domain: SNR, gain per utterance or batch, padding."""

import math

import numpy as np
import pytest
import soundfile as sf
import torch

from iaug.models import STFT
from iaug.mixing import NoiseBank, NoiseMixer, masked_power, snr_gain
from iaug.policies import AllOnes


def measured_snr(speech, noise_part, frame_mask=None):
    return 10 * torch.log10(masked_power(speech, frame_mask) / masked_power(noise_part, frame_mask))


def test_per_utterance_gain_hits_every_target():
    stft = STFT()
    speech = stft(torch.randn(3, 16000) * torch.tensor([[0.01], [0.1], [1.0]]))
    noise = stft(torch.randn(3, 16000) * torch.tensor([[1.0], [0.2], [0.05]]))
    for snr in (-12.5, 0.0, 15.0, 40.0):
        gain = snr_gain(speech, noise, snr)
        got = measured_snr(speech, gain * noise)
        assert torch.allclose(got, torch.full((3,), snr), atol=1e-3), got


def test_per_batch_gain_is_shared_and_hits_batch_snr():
    stft = STFT()
    speech = stft(torch.randn(2, 16000) * torch.tensor([[0.01], [1.0]]))
    noise = stft(torch.randn(2, 16000))
    gain = snr_gain(speech, noise, 5.0, per_utterance=False)
    assert torch.allclose(gain[0], gain[1])
    batch_snr = 10 * math.log10(masked_power(speech).mean() / masked_power(gain * noise).mean())
    assert batch_snr == pytest.approx(5.0, abs=1e-3)


def test_snr_per_utterance_tensor():
    stft = STFT()
    speech, noise = stft(torch.randn(2, 16000)), stft(torch.randn(2, 16000))
    target = torch.tensor([-10.0, 20.0])
    got = measured_snr(speech, snr_gain(speech, noise, target) * noise)
    assert torch.allclose(got, target, atol=1e-3)


def test_snr_range_draws_one_seeded_snr_per_utterance():
    stft = STFT()
    wavs = torch.randn(64, 8000, generator=torch.Generator().manual_seed(1))
    spec = stft(wavs)
    bank = NoiseBank(torch.randn(4, 16000, generator=torch.Generator().manual_seed(2)))
    mixer = NoiseMixer(bank, [-12.5, 15], AllOnes())
    noisy, _ = mixer(stft, spec, stft.db(spec), rng=torch.Generator().manual_seed(3))
    got = measured_snr(spec, noisy - spec)
    assert got.min() >= -12.5 - 1e-3 and got.max() <= 15 + 1e-3
    assert got.max() - got.min() > 20  # spread over the range, not one SNR for all
    again, _ = mixer(stft, spec, stft.db(spec), rng=torch.Generator().manual_seed(3))
    assert torch.equal(noisy, again)
    fixed, _ = NoiseMixer(bank, 5.0, AllOnes())(stft, spec, stft.db(spec), rng=torch.Generator().manual_seed(3))
    assert torch.allclose(measured_snr(spec, fixed - spec), torch.full((64,), 5.0), atol=1e-3)
    for bad in ([15, -12.5], [5], ["a", 5]):
        with pytest.raises(ValueError, match="snr_db: a number or a range"):
            NoiseMixer(bank, bad)


def test_padding_does_not_change_gain_and_gets_no_noise():
    stft = STFT()
    torch.manual_seed(0)
    short = torch.randn(1, 8000)
    padded = torch.cat([short, torch.zeros(1, 8000)], dim=1)
    bank = NoiseBank(torch.randn(4, 16000))
    mixer = NoiseMixer(bank, snr_db=0.0, policy=AllOnes())
    spec_s, spec_p = stft(short), stft(padded)
    fm = stft.frame_mask(torch.tensor([0.5]), spec_p.shape[-1])
    assert int(fm.sum()) == spec_s.shape[-1] - 1 or int(fm.sum()) == spec_s.shape[-1]
    rng = torch.Generator().manual_seed(3)
    noisy, mask = mixer(stft, spec_p, stft.db(spec_p), fm, rng)
    pad = fm[0] == 0
    assert torch.equal(noisy[0][:, pad], spec_p[0][:, pad])
    assert (mask[0][:, pad] == 0).all()
    # SNR over the real frames is the target
    added = noisy - spec_p
    assert measured_snr(spec_p, added, fm).item() == pytest.approx(0.0, abs=1e-3)


def test_mask_scales_noise_below_target_snr():
    stft = STFT()
    bank = NoiseBank(torch.randn(4, 16000))
    spec = stft(torch.randn(2, 16000))
    half = lambda spec_db, rng=None: torch.full_like(spec_db, 0.5)
    rng = lambda: torch.Generator().manual_seed(0)
    plain, _ = NoiseMixer(bank, 0.0, AllOnes())(stft, spec, stft.db(spec), rng=rng())
    masked, _ = NoiseMixer(bank, 0.0, half)(stft, spec, stft.db(spec), rng=rng())
    # Same noise draw, half the amplitude: 6 dB more SNR, not renormalised.
    assert torch.allclose(masked - spec, 0.5 * (plain - spec), atol=1e-5)


def test_noise_bank_sampling_is_seeded_and_vectorised():
    clips = torch.arange(3 * 100, dtype=torch.float32).reshape(3, 100)
    bank = NoiseBank(clips)
    a = bank.sample(5, 250, torch.Generator().manual_seed(1))
    b = bank.sample(5, 250, torch.Generator().manual_seed(1))
    assert a.shape == (5, 250) and torch.equal(a, b)
    for row in a:  # each segment wraps around inside one clip
        clip = int(row[0]) // 100
        assert ((row // 100) == clip).all()
        assert torch.equal(row[100:200], row[:100])


def test_noise_bank_from_csv_reads_once_and_reports_bad_files(tmp_path):
    rows = []
    for i in range(3):
        path = tmp_path / f"n{i}.wav"
        sf.write(path, np.random.default_rng(i).standard_normal(16000).astype("float32") * 0.1, 16000)
        rows.append(f"n{i},1.0,{path}")
    csv = tmp_path / "noise.csv"
    csv.write_text("ID,duration,wav\n" + "\n".join(rows) + "\n")
    bank = NoiseBank.from_csv(str(csv))
    assert bank.clips.shape == (3, 16000)
    sf.write(tmp_path / "n8k.wav", np.zeros(8000, "float32"), 8000)
    csv.write_text("ID,duration,wav\nx,1.0," + str(tmp_path / "n8k.wav") + "\n")
    with pytest.raises(ValueError, match="n8k.wav is 8000 Hz"):
        NoiseBank.from_csv(str(csv))
    csv.write_text("ID,duration,wav\n")
    with pytest.raises(ValueError, match="lists no files"):
        NoiseBank.from_csv(str(csv))


def test_a_step_of_noise_mixing_on_a_gpu_copies_nothing_from_the_host():
    from device_helpers import HostOps, fake_gpu

    stft = STFT()
    for snr in (5.0, [0.0, 10.0]):  # a fixed SNR, one drawn per utterance
        mixer = NoiseMixer(NoiseBank(torch.randn(3, 16000)), snr)
        with fake_gpu():
            stft.to("cuda"), mixer.noise_bank.to("cuda")
            spec = stft(torch.randn(2, 16000, device="cuda"))
            frame_mask = torch.ones(2, spec.shape[-1], device="cuda")
            with HostOps() as seen:
                mixer(stft, spec, stft.db(spec), frame_mask)
        assert seen.ops == [], (snr, seen.ops)


def test_a_fixed_snr_gives_the_gain_of_the_same_snr_as_a_tensor():
    stft = STFT()
    speech, noise = stft(torch.randn(3, 16000)), stft(torch.randn(3, 16000))
    for snr in (-12.5, 0, 7.3):
        assert torch.equal(snr_gain(speech, noise, snr), snr_gain(speech, noise, torch.full((3,), snr)))


def test_skipping_a_batch_draws_what_mixing_it_draws():
    from iaug.models import MaskGenerator
    from iaug.policies import LearnedMask, RolledMaskOrOnes

    stft = STFT()
    spec = stft(torch.randn(3, 16000))
    for policy in (None, LearnedMask(MaskGenerator())):
        mixer = NoiseMixer(NoiseBank(torch.randn(4, 16000)), [-5.0, 5.0], policy)
        mixed, skipped = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
        with torch.no_grad():
            mixer(stft, spec, stft.db(spec), None, mixed)
        mixer.skip(3, skipped)
        assert torch.equal(torch.rand(5, generator=mixed), torch.rand(5, generator=skipped))
    rolled = NoiseMixer(NoiseBank(torch.randn(4, 16000)), 0.0, RolledMaskOrOnes(MaskGenerator()))
    assert not rolled.skippable
    with pytest.raises(ValueError, match="RolledMaskOrOnes draws from the generator"):
        rolled.skip(3, torch.Generator())


@pytest.mark.parametrize("clip_len, num_samples", [(100, 250), (100, 100), (1000, 30)])
def test_noise_bank_segments_start_at_the_draw_and_wrap_in_their_clip(clip_len, num_samples):
    # clips about a segment long are cut as windows of a repeated clip, longer
    # ones by index: both the segment that starts at the draw, wrapped
    bank = NoiseBank(torch.randn(4, clip_len))
    segments = bank.sample(6, num_samples, torch.Generator().manual_seed(2))
    idx, start = bank.draw(6, torch.Generator().manual_seed(2))
    pos = (start + torch.arange(num_samples)) % clip_len
    assert torch.equal(segments, bank.clips[idx[:, None], pos])


def test_plain_noise_needs_no_clean_db_and_is_all_ones_noise():
    stft = STFT()
    spec = stft(torch.randn(3, 16000))
    frame_mask = stft.frame_mask(torch.tensor([1.0, 0.6, 0.3]), spec.shape[-1])
    bank = NoiseBank(torch.randn(4, 16000))
    for fm in (None, frame_mask):
        plain, plain_mask = NoiseMixer(bank, [-5.0, 5.0])(stft, spec, None, fm, torch.Generator().manual_seed(4))
        ones, ones_mask = NoiseMixer(bank, [-5.0, 5.0], AllOnes())(
            stft, spec, stft.db(spec), fm, torch.Generator().manual_seed(4))
        assert torch.equal(torch.view_as_real(plain), torch.view_as_real(ones))
        assert plain_mask.shape == spec.shape and torch.equal(plain_mask, ones_mask)
