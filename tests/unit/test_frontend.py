"""The well-conditioned front-end option: a change of 1e-7 in the digital
silence of a zero-padded clip moves neither network's output by 1e-3, where
the paper's front-end moves the recognizer's log-probabilities by units."""

import os

import torch

from iaug.models import STFT, MaskGenerator, Recognizer
from iaug.models.recognizers import SentenceNorm
from iaug.recipe import load

KWS = os.path.join(os.path.dirname(__file__), "..", "..", "egs", "gsc_qut", "kws", "hparams")


def padded_clip_and_nudge():
    """A 0.3 s tone zero-padded to 1 s, and the same with 1e-7 noise in the padding."""
    t = torch.arange(16000) / 16000
    wav = torch.zeros(1, 16000)
    wav[0, :4800] = 0.3 * torch.sin(2 * torch.pi * 440 * t[:4800]) * torch.hann_window(4800)
    gen = torch.Generator().manual_seed(0)
    nudged = wav.clone()
    nudged[0, 4800:] += 1e-7 * torch.randn(11200, generator=gen)
    return wav, nudged


def change(top_db, normalize):
    torch.manual_seed(0)
    stft, rec, gen = STFT(top_db=top_db), Recognizer(normalize=normalize).eval(), MaskGenerator().eval()
    outputs = []
    with torch.no_grad():
        for wav in padded_clip_and_nudge():
            spec_db = stft.db(stft(wav))
            outputs.append((rec(spec_db), gen(spec_db)))
    (a, ma), (b, mb) = outputs
    return (a - b).abs().max().item(), (ma - mb).abs().max().item()


def test_option_on_is_stable():
    rec, gen = change(80.0, True)
    assert rec < 1e-3 and gen < 1e-3


def test_paper_front_end_is_not():
    rec, _ = change(None, False)
    assert rec > 1.0  # the failure the option exists for


def test_default_is_the_papers_and_the_option_is_in_the_yaml(tmp_path):
    hp = load(os.path.join(KWS, "baseline.yaml"), {"data_dir": str(tmp_path)})
    assert hp["stft"].top_db is None and hp["recognizer"].norm is None
    on = load(os.path.join(KWS, "baseline.yaml"),
              {"data_dir": str(tmp_path), "top_db": 80, "normalize_input": True})
    assert on["stft"].top_db == 80 and on["recognizer"].norm is not None
    spec = torch.randn(2, 257, 10).exp()
    assert torch.equal(STFT().db(spec.to(torch.complex64)),
                       20 * torch.log10(spec.clamp(min=1e-10)))


def test_normalisation_statistics_use_real_frames_only():
    # padding frames (masked out) do not enter an utterance's mean and variance
    torch.manual_seed(0)
    rec = Recognizer(normalize=True).eval()
    x = torch.randn(1, 257, 20) * 5 + 3
    padded = torch.cat([x, torch.full((1, 257, 6), -200.0)], -1)
    mask = torch.cat([torch.ones(1, 20), torch.zeros(1, 6)], -1)
    normed = rec.norm(padded, mask)[..., :20]
    alone = rec.norm(x)
    torch.testing.assert_close(normed, alone, atol=1e-4, rtol=0)
    torch.testing.assert_close(alone.mean(-1), torch.zeros(1, 257), atol=1e-5, rtol=0)
    torch.testing.assert_close(alone.std(-1, unbiased=False), torch.ones(1, 257), atol=1e-4, rtol=0)


def test_mean_only_normalisation_keeps_each_bins_spread():
    # "mean": every bin's mean over the real frames removed, its spread (how
    # far it moves over time, in dB) kept: a near-constant bin stays near 0
    import pytest

    x = torch.randn(2, 257, 20) * torch.linspace(0.01, 10, 257)[None, :, None] + 3
    padded = torch.cat([x, torch.full((2, 257, 6), -200.0)], -1)
    mask = torch.cat([torch.ones(2, 20), torch.zeros(2, 6)], -1)
    normed = Recognizer(normalize="mean").norm(padded, mask)[..., :20]
    torch.testing.assert_close(normed, x - x.mean(-1, keepdim=True), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="normalize"):
        Recognizer(normalize="std")


def test_a_constant_bin_keeps_gradients_finite_and_small():
    # a band-limited clip under the top_db floor: whole bins constant over
    # time. SpeechBrain's sentence InputNormalization gives NaN gradients
    # there (sqrt at 0), which stopped generator training on the demo corpus.
    x = (torch.randn(2, 257, 30) * 5).requires_grad_()
    floored = torch.cat([x[:, :100], torch.full((2, 157, 30), -63.123456, requires_grad=True)], 1)
    out = SentenceNorm()(floored, torch.ones(2, 30))
    assert out[:, 100:].abs().max() < 1e-2  # not the rounding residue / 1e-10
    out.square().sum().backward()
    assert torch.isfinite(x.grad).all()
    rec = Recognizer(normalize=True)
    spec = torch.cat([torch.randn(1, 120, 30), torch.full((1, 137, 30), -80.0)], 1).requires_grad_()
    rec(spec, torch.ones(1, 30)).sum().backward()
    assert torch.isfinite(spec.grad).all()


def test_log_mel_builds_its_mel_matrix_once_with_speechbrains_values():
    from speechbrain.processing.features import Filterbank

    from device_helpers import HostOps, fake_gpu
    from iaug.models import LogMel

    logmel = LogMel(n_mels=40, n_fft=512)
    power = torch.rand(3, 50, 257) * 100
    # SpeechBrain's Filterbank, as LogMel used it in every forward: the same bytes
    fbank = Filterbank(n_mels=40, n_fft=512, sample_rate=16000, log_mel=False, freeze=True)
    assert torch.equal(torch.matmul(power, logmel.fbank_matrix), fbank(power))
    assert "fbank_matrix" not in logmel.state_dict()  # checkpoints as before
    with fake_gpu():
        logmel.to("cuda")
        spec_db, frame_mask = torch.randn(2, 257, 30, device="cuda"), torch.ones(2, 30, device="cuda")
        with HostOps() as seen:
            logmel(spec_db, frame_mask)
    assert seen.ops == []  # no matrix built on the host and copied over


def autograd_db(spec, amin, top_db):
    """STFT.db written out for autograd through the complex ``abs`` (the definition)."""
    spec_db = 20.0 * torch.log10(spec.abs().clamp(min=amin))
    if top_db is None:
        return spec_db
    return torch.maximum(spec_db, spec_db.flatten(1).amax(1)[:, None, None] - top_db)


def test_db_is_the_definitions_values_and_gradient():
    from iaug.models.frontends import magnitude_db

    torch.manual_seed(0)
    spec = STFT()(torch.randn(4, 4000))
    spec[0, :, :3] = 0  # digital silence: below amin
    for top_db in (None, 80.0):
        assert torch.equal(magnitude_db(spec, 1e-10, top_db), autograd_db(spec, 1e-10, top_db))
    # the gradient, in float64, with bins at and below each floor and the loudest bin's share
    spec = (torch.randn(3, 5, 7, dtype=torch.complex128) * torch.logspace(-3, 0, 7, dtype=torch.float64))
    spec[0, 0, 0] = 0
    spec.requires_grad_()
    weights = torch.randn(3, 5, 7, dtype=torch.float64)
    for top_db in (None, 40.0, 20.0):
        (grad,) = torch.autograd.grad((magnitude_db(spec, 1e-10, top_db) * weights).sum(), spec)
        (want,) = torch.autograd.grad((autograd_db(spec, 1e-10, top_db) * weights).sum(), spec)
        assert torch.allclose(grad, want, rtol=1e-9, atol=1e-9), top_db
        assert torch.autograd.gradcheck(lambda s: magnitude_db(s, 1e-10, top_db), (spec,))
