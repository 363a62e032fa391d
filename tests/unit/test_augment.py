"""iaug.augment.ImportantAug: a drop-in, seedable, length-aware waveform augmentation."""

import re

import pytest
import torch
import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml

from helpers import STABLE_FRONTEND_HPARAMS, make_generator_ckpt
from iaug.augment import ImportantAug, load_generator
from iaug.export import export_reference
from iaug.mixing import NoiseBank


def speechlike(batch=3, samples=16000, seed=0):
    """Tones with a noise floor: every bin is well conditioned."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(samples) / 16000
    freqs = 300 + 400 * torch.rand(batch, 1, generator=gen)
    return 0.3 * torch.sin(2 * torch.pi * freqs * t) + 1e-3 * torch.randn(batch, samples, generator=gen)


@pytest.fixture(scope="module")
def bank():
    return NoiseBank(0.1 * torch.randn(5, 16000, generator=torch.Generator().manual_seed(1)))


@pytest.fixture(scope="module")
def generator(authors_ckpt):
    return load_generator(authors_ckpt)  # seeded weights in the authors' format


@pytest.mark.parametrize("policy", ["rolled", "learned", "binarized", "ones"])
def test_same_seed_same_output(generator, bank, policy):
    wavs = speechlike()
    a = ImportantAug(generator, bank, policy=policy, seed=7)
    b = ImportantAug(generator, bank, policy=policy, seed=7)
    outs_a = [a(wavs) for _ in range(3)]
    outs_b = [b(wavs) for _ in range(3)]
    for x, y in zip(outs_a, outs_b):
        assert torch.equal(x, y)
    a.reset()
    assert torch.equal(a(wavs), outs_a[0])
    assert not torch.equal(ImportantAug(generator, bank, policy=policy, seed=8)(wavs), outs_a[0])
    assert outs_a[0].shape == wavs.shape and not torch.equal(outs_a[0], wavs)


def test_padding_gets_no_noise(generator, bank):
    wavs = speechlike()
    lengths = torch.tensor([1.0, 0.5, 0.73])
    for i, rel in enumerate(lengths):
        wavs[i, int(round(float(rel) * 16000)):] = 0.0  # padding, as a padded batch holds
    out = ImportantAug(generator, bank, policy="learned", seed=0)(wavs, lengths)
    for i, rel in enumerate(lengths):
        end = int(round(float(rel) * 16000))
        assert torch.equal(out[i, end:], wavs[i, end:])  # exactly as it was
        assert (out[i, :end] - wavs[i, :end]).abs().max() > 1e-2  # noise where speech is


def test_snr_and_learned_mask(generator, bank):
    wavs = speechlike()
    plain = ImportantAug(None, bank, policy="ones", snr_db=0.0, seed=0)(wavs)
    snr = 10 * torch.log10(wavs.square().mean(1) / (plain - wavs).square().mean(1))
    assert torch.allclose(snr, torch.zeros(3), atol=0.5)
    # the learned mask (< 1) lowers the noise energy below that of plain noise
    learned = ImportantAug(generator, bank, policy="learned", snr_db=0.0, seed=0)(wavs)
    assert ((learned - wavs).square().mean(1) < (plain - wavs).square().mean(1)).all()


def test_one_dimensional_input_and_errors(generator, bank):
    wav = speechlike(1)[0]
    assert ImportantAug(generator, bank, seed=0)(wav).shape == wav.shape
    with pytest.raises(ValueError, match="policy"):
        ImportantAug(None, bank, policy="rolled")
    with pytest.raises(ValueError, match="unknown policy"):
        ImportantAug(generator, bank, policy="nope")
    with pytest.raises(ValueError, match="noise_bank"):
        ImportantAug(generator, None)


@pytest.mark.parametrize("setting,message", [
    ({"snr_db": float("nan")}, "snr_db: a finite number or a range"),
    ({"snr_db": "loud"}, "snr_db: a finite number or a range"),
    ({"snr_db": [15, -12.5]}, "snr_db: a number or a range [low, high]"),
    ({"q": 0}, "q: a percentile in (0, 100]"),
    ({"prob": 1.5}, "prob: a probability in [0, 1]"),
    ({"max_shift": 0}, "max_shift: a whole number"),
    ({"sample_rate": 8000}, "reads 16 kHz audio (its 512-point STFT), got 8000"),
])
def test_settings_are_checked_in_one_line(generator, bank, setting, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ImportantAug(generator, bank, **setting)


def test_nan_waveforms_are_refused(generator, bank):
    wavs = speechlike()
    wavs[1, 100] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite samples"):
        ImportantAug(generator, bank, seed=0)(wavs)


def test_generator_sources_agree(tmp_path, generator, authors_ckpt):
    # an experiment folder (best checkpoint by dev loss) and a .ckpt load the same weights
    exp = tmp_path / "exp" / "generator"
    ckpt = sb.utils.checkpoints.Checkpointer(str(exp / "save"), {"generator": generator})
    ckpt.save_checkpoint(meta={"loss": 1.0})
    torch.save(generator.state_dict(), tmp_path / "g.ckpt")
    export_reference(authors_ckpt, str(tmp_path / "model"))  # an exported model folder
    spec_db = torch.randn(1, 257, 20) * 20
    for source in (exp, tmp_path / "g.ckpt", tmp_path / "model", authors_ckpt):
        loaded = load_generator(str(source))
        assert not any(p.requires_grad for p in loaded.parameters())
        assert torch.equal(loaded(spec_db), generator(spec_db))


def test_a_reused_generator_reads_the_front_end_it_was_trained_with(tmp_path, generator, bank,
                                                                     authors_ckpt):
    # An experiment folder trained with the KWS recipe's stable front-end
    # (its resolved hyperparams.yaml): the generator reads dB floored there too.
    exp = tmp_path / "generator"
    sb.utils.checkpoints.Checkpointer(str(exp / "save"), {"generator": generator}).save_checkpoint(
        meta={"loss": 1.0})
    (exp / "hyperparams.yaml").write_text(STABLE_FRONTEND_HPARAMS
                                          + "generator: !new:iaug.models.MaskGenerator\n")
    assert ImportantAug(str(exp), bank).stft.top_db == 80
    assert ImportantAug(authors_ckpt, bank).stft.top_db is None  # the paper's raw dB
    assert ImportantAug(str(exp), bank, top_db=None).stft.top_db is None  # said explicitly
    assert ImportantAug(generator, bank).stft.top_db is None  # a module: no record of its front-end
    # it matters where a clip has digital silence: another mask, other noise
    wavs = speechlike(1)
    wavs[0, 8000:] = 0.0
    a = ImportantAug(str(exp), bank, policy="learned", seed=0)(wavs)
    b = ImportantAug(str(exp), bank, policy="learned", seed=0, top_db=None)(wavs)
    assert not torch.allclose(a, b)


def test_from_hyperpyyaml(toy_corpus, tmp_path):
    yaml = f"""
    augment: !new:iaug.augment.ImportantAug
        generator: {make_generator_ckpt(tmp_path / "generator.ckpt")}
        noise_bank: {toy_corpus}/manifests/noise_train.csv
        snr_db: -12.5
        policy: binarized
        q: 20
        seed: 3
    """
    aug = load_hyperpyyaml(yaml)["augment"]
    assert len(aug.mixer.noise_bank) == 4
    wavs = speechlike(2)
    assert aug(wavs, torch.tensor([1.0, 0.6])).shape == wavs.shape


def test_device_moves_buffers(generator, bank):
    aug = ImportantAug(generator, bank, seed=0)
    assert "noise_clips" in dict(aug.named_buffers())
    assert "noise_clips" not in aug.state_dict()  # the noise is data, not weights
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    outs = []
    for device in devices:
        aug.to(device).reset()
        assert aug.noise_clips.device.type == aug.generator.conv1.weight.device.type == device
        outs.append(aug(speechlike().to(device)).cpu())
    for out in outs[1:]:  # same draws on every device (a CPU random generator)
        assert torch.allclose(out, outs[0], atol=1e-3)


class TinyBrain(sb.Brain):
    """A plain recipe: mean-pooled fbank -> linear, ImportantAug in training."""

    def compute_forward(self, batch, stage):
        wavs, lens = batch
        if stage == sb.Stage.TRAIN:
            wavs = self.hparams.augment(wavs, lens)
            self.augmented = wavs
            self.train_steps = getattr(self, "train_steps", 0) + 1
        feats = self.modules.fbank(wavs).mean(1)
        return torch.log_softmax(self.modules.linear(feats), -1)

    def compute_objectives(self, predictions, batch, stage):
        return torch.nn.functional.nll_loss(predictions, torch.zeros(len(predictions), dtype=torch.long))


def test_runs_in_a_brain_step(generator, bank):
    aug = ImportantAug(generator, bank, seed=0)
    before = {k: v.clone() for k, v in aug.generator.state_dict().items()}
    modules = {"fbank": sb.lobes.features.Fbank(n_mels=20), "linear": torch.nn.Linear(20, 2),
               "augment": aug}  # inside modules: moved with the Brain, still frozen
    brain = TinyBrain(modules, lambda params: torch.optim.SGD(params, lr=0.1),
                      hparams={"augment": aug}, run_opts={"device": "cpu", "noprogressbar": True})
    wavs = speechlike(4)
    data = torch.utils.data.TensorDataset(wavs, torch.tensor([1.0, 1.0, 0.8, 0.5]))
    brain.fit(range(1), torch.utils.data.DataLoader(data, batch_size=4))
    assert brain.train_steps == 1 and brain.augmented.shape == wavs.shape
    assert not torch.equal(brain.augmented, wavs)
    assert torch.equal(brain.augmented[3, 8000:], wavs[3, 8000:])
    assert not aug.generator.training
    for key, value in aug.generator.state_dict().items():
        assert torch.equal(value, before[key])


def test_inside_speechbrain_augmenter(generator, bank):
    from speechbrain.augment.augmenter import Augmenter

    augmenter = Augmenter(augmentations=[ImportantAug(generator, bank, seed=0)], concat_original=True)
    wavs = speechlike(2)
    out, lens = augmenter(wavs, torch.tensor([1.0, 0.5]))
    assert out.shape == (4, 16000) and torch.equal(out[:2], wavs)
    assert torch.equal(out[3, 8000:], wavs[1, 8000:]) and not torch.equal(out[2], wavs[0])
