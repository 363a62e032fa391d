"""Bad audio and checkpoint inputs: one-line errors naming the file, or a
documented behaviour with a warning naming it, the same in training,
iaug-eval, iaug-plot and ImportantAugClassifier.classify_file."""

import logging
import os
import re

import numpy as np
import pytest
import soundfile as sf
import torch

from helpers import KWS_HPARAMS as KWS, fake_kws_system, make_toy_corpus
from iaug.brains import RecognizerBrain
from iaug.checkpoints import CheckpointError, best_checkpoint_dir, load_state, load_weights
from iaug.cli.evaluate import main as eval_main
from iaug.cli.plot import main as plot_main
from iaug.data.audio import MIN_SAMPLES, AudioError, read_audio, resample, write_wav
from iaug.data.manifest import check_file
from iaug.dataio import audio_dataset, folder_manifest
from iaug.export import main as export_main
from iaug.inference import ImportantAugClassifier
from iaug.models import Recognizer
from iaug.recipe import train_and_test
from iaug.tasks import KeywordSpotting

TONE = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)


@pytest.fixture(scope="module")
def model(tmp_path_factory, authors_ckpt):
    """A checkpoint in the authors' format (seeded weights: these tests need
    no trained model), exported and loaded as a user would."""
    tmp = tmp_path_factory.mktemp("model")
    assert export_main(["--reference", authors_ckpt, "--out", str(tmp / "authors")]) == 0
    return ImportantAugClassifier.from_hparams(source=str(tmp / "authors"), savedir=str(tmp / "sd"),
                                               run_opts={"device": "cpu"})


@pytest.fixture
def warned():
    """The warnings of iaug.data.audio, as a list of messages (caplog's handler
    on the root logger goes when SpeechBrain sets its logging up)."""
    messages = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger("iaug.data.audio")
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def said(messages, *parts):
    return any(all(part in m for part in parts) for m in messages)


def nan_wav(path):
    x = TONE.copy()
    x[100] = np.nan
    write_wav(path, x, fmt="float")
    return str(path)


def truncate(path, keep=0.5):
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:int(len(data) * keep)])
    return str(path)


def one_line_error(capsys, *names):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for name in names:
        assert str(name) in err, err
    return err


def score_folder(tmp_path, capsys, files):
    """iaug-eval --data_dir on a folder holding ``files`` {name: writer(path)}."""
    exp = str(tmp_path / "exp")
    if not os.path.isdir(exp):
        fake_kws_system(exp)
    folder = tmp_path / "mine" / "yes"
    folder.mkdir(parents=True, exist_ok=True)
    for name, write in files.items():
        write(str(folder / name))
    return eval_main(["--exp_dir", exp, "--system", "baseline", "--data_dir",
                      str(folder.parent), "--rescore"])


def train(tmp_path, corpus, *extra):
    """The KWS baseline recipe (tiny preset) on ``corpus``."""
    exp = str(tmp_path / "exp")
    return train_and_test(RecognizerBrain, [
        os.path.join(KWS, "baseline.yaml"), "--preset", os.path.join(KWS, "presets", "tiny.yaml"),
        "--data_dir", corpus, "--exp_dir", exp, "--output_folder", os.path.join(exp, "run"),
        "--number_of_epochs", "1", *extra])


# 1. NaN or infinite samples

def test_nan_samples_are_an_error_naming_the_file(tmp_path, capsys, model):
    path = nan_wav(tmp_path / "nan.wav")
    with pytest.raises(AudioError, match=re.escape(f"{path} has NaN or infinite samples")):
        read_audio(path)
    assert check_file(path)[0] == "NaN or infinite samples"  # manifest stage: a bad file
    with pytest.raises(ValueError, match=re.escape(f"{path} has NaN")):
        model.classify_file(path)
    with pytest.raises(ValueError, match=re.escape(f"{path} has NaN")):
        model.importance_map(path)
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.classify_batch(torch.full((1, 16000), float("inf")))
    assert score_folder(tmp_path, capsys, {"nan.wav": nan_wav}) == 1
    one_line_error(capsys, "iaug-eval: error: audio file", "nan.wav has NaN")


@pytest.mark.parametrize("streamed", [False, True])
def test_nan_samples_stop_training_with_one_line(tmp_path, streamed):
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    bad = nan_wav(os.path.join(corpus, "wav", "bed", "spk0_nohash_0.wav"))  # a training clip
    # streamed: read in a DataLoader worker, which re-raises with its traceback
    extra = ["--audio_in_memory", "False", "--num_workers", "1"] if streamed else []
    with pytest.raises(SystemExit) as err:
        train(tmp_path, corpus, *extra)
    assert str(err.value) == f"error: audio file {bad} has NaN or infinite samples"


# 2. shorter than the STFT window: zero-padded, with a warning

def test_short_clip_is_zero_padded_with_a_warning(tmp_path, capsys, warned, model):
    path = str(tmp_path / "short.wav")
    write_wav(path, TONE[:200])
    x = read_audio(path)
    assert x.shape == (MIN_SAMPLES,) and torch.all(x[200:] == 0)
    assert said(warned, f"{path} has 200 samples", "zero-padded")
    label, log_probs = model.classify_file(path)  # was a torch traceback about reflect padding
    assert label in model.hparams.labels and torch.isfinite(log_probs).all()
    assert model.importance_map(path).shape == (257, MIN_SAMPLES // 128 + 1)
    sig = audio_dataset({"a": {"wav": path, "label": "yes"}}, KeywordSpotting(["yes"]))[0]["sig"]
    assert sig.shape == (MIN_SAMPLES,)  # what training and iaug-eval read
    assert score_folder(tmp_path, capsys, {"short.wav": lambda p: write_wav(p, TONE[:100])}) == 0


# 3. truncated WAV: a warning when read, a bad file in the manifest stage

def test_truncated_wav_warns_when_read_and_is_bad_in_manifests(tmp_path, warned):
    path = str(tmp_path / "cut.wav")
    write_wav(path, TONE)
    truncate(path)
    x = read_audio(path)
    assert len(x) < 16000
    assert said(warned, f"audio file {path} is truncated (header declares 16000 frames")
    problem, _ = check_file(path)
    assert problem.startswith("truncated (header declares 16000 frames, file holds")
    write_wav(path, TONE, fmt="float")  # whole again: no complaint
    assert check_file(path) == (None, 1.0)


# 4. another rate, several channels: refused for training, converted for users

def write_8k(path):
    write_wav(path, resample(TONE, 16000, 8000), sr=8000)


def write_stereo(path):
    sf.write(path, np.stack([TONE, 0.5 * TONE], 1), 16000, subtype="FLOAT")


def test_rate_and_channels_are_strict_for_training_data(tmp_path):
    write_8k(str(tmp_path / "8k.wav"))
    write_stereo(str(tmp_path / "st.wav"))
    with pytest.raises(AudioError, match="8k.wav is 8000 Hz, expected 16000 Hz"):
        read_audio(str(tmp_path / "8k.wav"))
    with pytest.raises(AudioError, match="st.wav has 2 channels, expected mono"):  # was channel 0
        read_audio(str(tmp_path / "st.wav"))
    manifest = {"a": {"wav": str(tmp_path / "st.wav"), "label": "yes"}}
    with pytest.raises(AudioError, match="2 channels"):
        audio_dataset(manifest, KeywordSpotting(["yes"]))[0]


def test_rate_and_channels_are_converted_for_users_with_a_warning(tmp_path, capsys, warned, model):
    for name, write in (("8k.wav", write_8k), ("st.wav", write_stereo)):
        write(str(tmp_path / name))
    x = read_audio(str(tmp_path / "8k.wav"), convert=True)
    y = read_audio(str(tmp_path / "st.wav"), convert=True)
    assert x.shape == (16000,) and np.allclose(y.numpy(), 0.75 * TONE)
    assert said(warned, f"{tmp_path / '8k.wav'} is 8000 Hz: resampled to 16000 Hz")
    assert said(warned, f"{tmp_path / 'st.wav'} has 2 channels: averaged to mono")
    # classify_file reads as iaug-eval --data_dir does: same waveform, same warning
    write_8k(str(tmp_path / "8k_again.wav"))
    label, log_probs = model.classify_file(str(tmp_path / "8k_again.wav"))
    assert said(warned, "8k_again.wav is 8000 Hz: resampled")
    expected, _, _, labels = model.classify_batch(x[None])
    assert label == labels[0] and torch.allclose(log_probs, expected[0])
    assert score_folder(tmp_path, capsys, {"8k.wav": write_8k, "st.wav": write_stereo}) == 0
    assert said(warned, "yes/8k.wav is 8000 Hz: resampled") and said(warned, "yes/st.wav has 2 channels")
    assert '"num_utts": 2' in capsys.readouterr().out
    assert type(folder_manifest(str(tmp_path / "mine"), ["yes"])).__name__ == "FolderManifest"


# 5. a missing file

def test_classify_file_names_a_missing_file(tmp_path, model):
    path = str(tmp_path / "missing.wav")
    with pytest.raises(FileNotFoundError, match=re.escape(f"audio file not found: {path}")):
        model.classify_file(path)
    with pytest.raises(FileNotFoundError, match="audio file not found: missing.wav"):
        model.classify_file("missing.wav")
    typo = str(tmp_path / "typo_dir" / "yes.wav")  # a folder that does not exist: no hub lookup
    with pytest.raises(FileNotFoundError, match=re.escape(f"audio file not found: {typo}")):
        model.classify_file(typo)
    with pytest.raises(ValueError, match="a URL; download the file"):
        model.importance_map("https://example.org/yes.wav")


@pytest.mark.parametrize("wavs,wav_lens,message", [
    (torch.zeros(16000), None, "got shape (16000,) (one waveform: wavs[None])"),
    (torch.zeros(0, 16000), None, "an empty batch"),
    (torch.zeros(2, 16000), torch.ones(3), "2 relative lengths, got shape (3,)"),
    (torch.zeros(2, 16000), torch.tensor([1.0, 0.0]), "relative lengths in (0, 1]"),
    (torch.zeros(2, 16000), torch.tensor([1.0, 1.5]), "relative lengths in (0, 1]"),
    (np.zeros((2, 16000)), None, "a [batch, samples] tensor, got ndarray"),
])
def test_bad_batches_are_one_line(model, wavs, wav_lens, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        model.classify_batch(wavs, wav_lens)
    if wav_lens is None:
        with pytest.raises(ValueError, match=re.escape(message)):
            model.importance_batch(wavs)


def test_lengths_as_a_list_or_array_are_taken(model):
    wavs = torch.from_numpy(np.stack([TONE, TONE]))
    expected = model.classify_batch(wavs, torch.tensor([1.0, 0.5]))[0]
    for lens in ([1.0, 0.5], np.array([1.0, 0.5])):
        assert torch.allclose(model.classify_batch(wavs, lens)[0], expected)


# 6. a corrupt best checkpoint

def test_corrupt_checkpoint_is_one_line_naming_the_file(tmp_path, capsys, authors_ckpt):
    exp = str(tmp_path / "exp")
    fake_kws_system(exp)
    ckpt = truncate(os.path.join(best_checkpoint_dir(os.path.join(exp, "baseline")), "recognizer.ckpt"))
    with pytest.raises(CheckpointError, match=re.escape(f"cannot load the recognizer: {ckpt} is corrupt")):
        load_state(os.path.join(exp, "baseline"), "recognizer")
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    assert eval_main(["--exp_dir", exp, "--system", "baseline",
                      "--manifest", os.path.join(corpus, "manifests", "test.csv")]) == 1
    one_line_error(capsys, "iaug-eval: error:", ckpt)
    assert export_main(["--exp_dir", exp, "--system", "baseline", "--generator", authors_ckpt,
                        "--out", str(tmp_path / "out")]) == 1
    one_line_error(capsys, "iaug-export: error:", ckpt)
    generator = str(tmp_path / "generator.ckpt")  # an authors'-format checkpoint, cut short
    with open(authors_ckpt, "rb") as src, open(generator, "wb") as dst:
        dst.write(src.read()[:4096])
    write_wav(tmp_path / "a.wav", TONE)
    assert plot_main(["importance", "--generator", generator, "--out", str(tmp_path / "m.png"),
                      str(tmp_path / "a.wav")]) == 1
    one_line_error(capsys, "iaug-plot: error:", generator)
    # a later training stage initialised from it (init_from)
    with pytest.raises(SystemExit) as err:
        train(tmp_path, corpus, "--init_recognizer", os.path.join(exp, "baseline"))
    assert str(err.value).startswith(f"error: init_from recognizer: cannot load the recognizer: "
                                     f"{ckpt} is corrupt or truncated (")
    assert "\n" not in str(err.value)


def test_checkpoint_of_another_shape_is_one_line(tmp_path):
    exp = str(tmp_path / "exp")
    fake_kws_system(exp)
    with pytest.raises(CheckpointError) as err:
        load_weights(Recognizer(num_classes=3), os.path.join(exp, "baseline"), "recognizer")
    assert "recognizer.ckpt does not fit the recognizer: " in str(err.value)
    assert "size mismatch" in str(err.value) and "\n" not in str(err.value)


class _Payload:
    """What a hostile checkpoint holds: an object whose unpickling runs code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_checkpoint_that_would_run_code_is_refused_unread(tmp_path, capsys, authors_ckpt):
    marker = str(tmp_path / "code_ran")
    exp = str(tmp_path / "exp")
    fake_kws_system(exp)
    ckpt = os.path.join(best_checkpoint_dir(os.path.join(exp, "baseline")), "recognizer.ckpt")
    state = torch.load(ckpt, weights_only=True)
    torch.save({**state, "extra": _Payload(marker)}, ckpt)
    hostile_pt = str(tmp_path / "hostile.pt")
    authors = torch.load(authors_ckpt, weights_only=True)
    torch.save({**authors, "epoch": _Payload(marker)}, hostile_pt)
    for source, name in ((os.path.join(exp, "baseline"), "recognizer"), (ckpt, "recognizer"),
                         (hostile_pt, "generator"), (hostile_pt, "recognizer")):
        with pytest.raises(CheckpointError, match=re.escape(f"refused to load the {name}: ")) as err:
            load_weights(Recognizer() if name == "recognizer" else None, source, name)
        assert "\n" not in str(err.value)
    write_wav(tmp_path / "a.wav", TONE)
    assert plot_main(["importance", "--generator", hostile_pt, "--out", str(tmp_path / "m.png"),
                      str(tmp_path / "a.wav")]) == 1
    one_line_error(capsys, "iaug-plot: error:", hostile_pt)
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    assert eval_main(["--exp_dir", exp, "--system", "baseline",
                      "--manifest", os.path.join(corpus, "manifests", "test.csv")]) == 1
    one_line_error(capsys, "iaug-eval: error:", ckpt)
    assert not os.path.exists(marker)
    # the authors' format, plain values only, still loads
    load_weights(Recognizer(), authors_ckpt, "recognizer")


# a loss that is not finite (here: the task's loss made NaN)

def test_a_loss_that_is_not_finite_stops_training_with_one_line(tmp_path, monkeypatch):
    corpus = make_toy_corpus(str(tmp_path / "toy"))
    loss = KeywordSpotting.loss
    monkeypatch.setattr(KeywordSpotting, "loss", lambda self, *a: loss(self, *a) * float("nan"))
    with pytest.raises(SystemExit) as err:  # the toy epoch is one batch: fewer than the patience
        train(tmp_path, corpus)
    message = str(err.value)  # was: "train loss: 0.00e+00 - valid loss: 0.00e+00", a best checkpoint
    assert message.startswith("error: train loss not finite (1 of 1 batches) in epoch 1: ")
    assert "lower the learning rate" in message and str(tmp_path / "exp" / "run" / "save") in message
    assert "\n" not in message
    with pytest.raises(SystemExit) as err:
        train(tmp_path / "2", corpus, "--nonfinite_patience", "0")
    assert str(err.value).startswith("error: train loss not finite in 1 batches (more than "
                                     "--nonfinite_patience) in epoch 1: lower the learning rate")


def test_a_loss_that_is_not_finite_in_scoring_is_one_line(tmp_path, capsys, monkeypatch):
    loss = KeywordSpotting.loss
    monkeypatch.setattr(KeywordSpotting, "loss", lambda self, *a: loss(self, *a) * float("nan"))
    assert score_folder(tmp_path, capsys, {"a.wav": lambda p: write_wav(p, TONE)}) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("iaug-eval: error: test loss not finite (1 of 1 batches): check the data and "
                       "the system's checkpoint")
