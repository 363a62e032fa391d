"""ASR: padded frames contribute nothing to the mask terms, the gain or the loss.

Each check pads the same two utterances two ways (to the longer one's length
with silence, and with 40 more frames of loud garbage) and compares. Padding
at the spectrogram level isolates the library's handling of padding from the
STFT's edge frames.
"""

import types

import pytest
import torch

from iaug.tasks import CTCRecognition
from iaug.models import CTCRecognizer
from iaug.models import STFT
from iaug.losses import importance_loss
from iaug.mixing import NoiseBank, NoiseMixer, snr_gain
from iaug.models import MaskGenerator
from iaug.policies import LearnedMask, RolledMaskOrOnes, roll_within_lengths

from asr_helpers import CharTokenizer, padded_batch_of_texts

LENGTHS = (90, 61)  # frames of the two utterances
EXTRA = 40          # extra padded frames in the second padding


def _speech_like(rng, frames, bins=257):
    """Complex spectrogram with speech-like dynamics (a loud band moving in time)."""
    mag = 1e-3 * torch.rand(bins, frames, generator=rng)
    band = (torch.arange(bins)[:, None] - 40 - 30 * torch.sin(torch.arange(frames) / 7.0)[None]).abs() < 12
    mag = mag + band.float() * torch.rand(bins, frames, generator=rng)
    phase = 2 * torch.pi * torch.rand(bins, frames, generator=rng)
    return torch.polar(mag, phase)


def two_paddings(seed=0):
    """(speech, noise, frame_mask) padded two ways: tight (zeros) and loose (garbage)."""
    rng = torch.Generator().manual_seed(seed)
    speech = [_speech_like(rng, n) for n in LENGTHS]
    noise = [torch.polar(torch.rand(257, n, generator=rng), 6.3 * torch.rand(257, n, generator=rng))
             for n in LENGTHS]
    out = []
    for total, garbage in ((max(LENGTHS), False), (max(LENGTHS) + EXTRA, True)):
        s = torch.zeros(len(LENGTHS), 257, total, dtype=torch.complex64)
        n = torch.zeros_like(s)
        fm = torch.zeros(len(LENGTHS), total)
        if garbage:
            s = s + torch.polar(100 * torch.rand(s.shape, generator=rng), torch.rand(s.shape, generator=rng))
            n = n + torch.polar(100 * torch.rand(s.shape, generator=rng), torch.rand(s.shape, generator=rng))
        for i, frames in enumerate(LENGTHS):
            s[i, :, :frames] = speech[i]
            n[i, :, :frames] = noise[i]
            fm[i, :frames] = 1.0
        out.append((s, n, fm))
    return out


@pytest.fixture
def networks():
    torch.manual_seed(0)
    tokenizer = CharTokenizer()
    recognizer = CTCRecognizer(num_tokens=tokenizer.vocab_size, n_mels=20, cnn_channels=4,
                               proj_dim=16, rnn_layers=2, rnn_neurons=16, dnn_neurons=16).eval()
    generator = MaskGenerator(mask_padding=True)
    return tokenizer, recognizer, generator


def test_gain_ignores_padded_frames():
    (s1, n1, fm1), (s2, n2, fm2) = two_paddings()
    g1 = snr_gain(s1, n1, -12.5, fm1)
    g2 = snr_gain(s2, n2, -12.5, fm2)
    assert torch.allclose(g1, g2, rtol=1e-5)
    assert not torch.allclose(g2, snr_gain(s2, n2, -12.5, None), rtol=1e-2)  # padding would matter


def test_generator_mask_of_real_frames_is_the_utterance_alone(networks):
    _, _, generator = networks
    (s1, _, fm1), (s2, _, fm2) = two_paddings()
    stft = STFT(512, 160)
    m1 = generator(stft.db(s1), fm1)
    m2 = generator(stft.db(s2), fm2)
    for i, frames in enumerate(LENGTHS):
        alone = generator(stft.db(s1[i:i + 1, :, :frames]))[0]
        assert torch.allclose(m1[i, :, :frames], alone, atol=1e-6)
        assert torch.allclose(m2[i, :, :frames], alone, atol=1e-6)
    # the reference behaviour (no masking) is kept by default
    plain = MaskGenerator()
    assert torch.equal(plain(stft.db(s1)), plain(stft.db(s1), fm1))


def test_recognizer_outputs_and_ctc_loss_ignore_padding(networks):
    tokenizer, recognizer, _ = networks
    task = CTCRecognition(tokenizer)
    batch = padded_batch_of_texts(tokenizer, ["open the red door", "go left"])
    (s1, _, fm1), (s2, _, fm2) = two_paddings()
    stft = STFT(512, 160)
    lp1, len1 = recognizer(stft.db(s1), fm1)
    lp2, len2 = recognizer(stft.db(s2), fm2)
    assert torch.equal(len1, len2)
    for i, n in enumerate(len1.tolist()):
        assert torch.allclose(lp1[i, :n], lp2[i, :n], atol=1e-5)
    assert torch.allclose(task.loss((lp1, len1), batch), task.loss((lp2, len2), batch), rtol=1e-5)
    assert task.hypotheses((lp1, len1)) == task.hypotheses((lp2, len2))


def test_generator_objective_and_gradients_ignore_padding(networks):
    """The whole stage-A objective: mask, gain, noisy features, CTC, mask terms."""
    tokenizer, recognizer, generator = networks
    task = CTCRecognition(tokenizer)
    batch = padded_batch_of_texts(tokenizer, ["open the red door", "go left"])
    policy = LearnedMask(generator)
    stft = STFT(512, 160)
    results = []
    for spec, noise, fm in two_paddings():
        generator.zero_grad()
        spec_db = stft.db(spec)
        mask = policy(spec_db, frame_mask=fm) * fm[:, None, :]  # as NoiseMixer does
        noisy = spec + snr_gain(spec, noise, -12.5, fm) * mask * noise
        predictions = task.forward(types.SimpleNamespace(recognizer=recognizer), stft.db(noisy), fm)
        loss, terms = importance_loss(task.loss(predictions, batch), mask, fm)
        loss.backward()
        assert torch.isfinite(loss)
        results.append((loss.detach(), terms, [p.grad.clone() for p in generator.parameters()]))
    (l1, t1, g1), (l2, t2, g2) = results
    assert torch.allclose(l1, l2, rtol=1e-5)
    for key in t1:
        assert torch.allclose(t1[key], t2[key], rtol=1e-4, atol=1e-7), key
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-6)


def test_mixer_output_on_real_frames_ignores_padded_content(networks):
    """Same batch shape, different garbage in the padded frames: the noisy
    spectrogram and the mask on real frames are identical (same noise draw)."""
    _, _, generator = networks
    _, (s2, _, fm2) = two_paddings(seed=0)
    _, (s3, _, _) = two_paddings(seed=1)
    s3 = torch.where(fm2[:, None, :] > 0, s2, s3)  # same speech, other garbage
    stft = STFT(512, 160)
    mixer = NoiseMixer(NoiseBank(torch.randn(3, 40000)), -12.5, LearnedMask(generator))
    out = [mixer(stft, s, stft.db(s), fm2, torch.Generator().manual_seed(5)) for s in (s2, s3)]
    real = fm2[:, None, :].expand_as(out[0][1]) > 0
    assert torch.allclose(out[0][0][real], out[1][0][real], atol=1e-5)
    assert torch.allclose(out[0][1][real], out[1][1][real], atol=1e-6)
    assert (out[0][1][~real] == 0).all()


def test_time_roll_stays_within_each_utterance():
    mask = (torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10) + 1) / 100
    lengths = torch.tensor([10, 6])
    rolled = roll_within_lengths(mask, 2, lengths)
    assert torch.equal(rolled[0], torch.roll(mask[0], 2, dims=-1))
    assert torch.equal(rolled[1, :, :6], torch.roll(mask[1, :, :6], 2, dims=-1))
    assert torch.equal(rolled[1, :, 6:], mask[1, :, 6:])
    # the policy rolls within the real frames when asked to: no value of a
    # padded frame is ever rolled into the 6 real frames of utterance 1
    fm = (torch.arange(10)[None] < lengths[:, None]).float()
    real_values = set(mask[1, :, :6].flatten().tolist())
    for within in (True, False):
        policy = RolledMaskOrOnes(lambda x: mask, prob=1.0, max_shift=5, within_lengths=within)
        leaked = 0
        for seed in range(40):
            m = policy(torch.zeros(2, 3, 10), torch.Generator().manual_seed(seed), frame_mask=fm)
            leaked += not set(m[1, :, :6].flatten().tolist()) <= real_values
        assert (leaked == 0) if within else (leaked > 0)


def test_the_recognizer_keeps_the_callers_cudnn_settings():
    from iaug.models.recognizers import CTCRecognizer

    cudnn = torch.backends.cudnn
    before = (cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32)
    rec = CTCRecognizer(num_tokens=5).eval()
    seen = []
    rnn = rec.rnn.forward
    rec.rnn.forward = lambda *a, **k: (seen.append((cudnn.enabled, cudnn.benchmark, cudnn.deterministic,
                                                    cudnn.allow_tf32)), rnn(*a, **k))[1]
    try:
        cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32 = True, True, False
        spec = torch.randn(2, 257, 40, requires_grad=True)  # training the generator through it
        rec(spec, torch.ones(2, 40))
        assert seen == [(False, True, True, False)]  # cuDNN off for this block only
        assert (cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, True, False)
    finally:
        cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32 = before
