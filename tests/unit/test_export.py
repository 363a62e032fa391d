"""iaug-export + ImportantAugClassifier: exported folders round-trip."""

import os

import numpy as np
import pytest
import soundfile as sf
import torch

from helpers import STABLE_FRONTEND_HPARAMS, fake_kws_system, reference_file
from iaug.data.gsc import GSC_LABELS
from iaug.export import main as export_main
from iaug.augment import generator_top_db
from iaug.models import STFT, Recognizer
from iaug.inference import ImportantAugClassifier


def load(folder, tmp_path):
    return ImportantAugClassifier.from_hparams(source=str(folder), savedir=str(tmp_path / "savedir"),
                                               run_opts={"device": "cpu"})


def test_reference_checkpoint_exports_its_outputs(tmp_path):
    ckpt, outputs = reference_file("importantaug_clf_frozen.pt"), reference_file("reference_outputs.npz")
    out = tmp_path / "authors"
    assert export_main(["--reference", ckpt, "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["generator.ckpt", "hyperparams.yaml", "labels.txt",
                                       "recognizer.ckpt"]
    assert (out / "labels.txt").read_text().split() == list(GSC_LABELS)
    model = load(out, tmp_path)
    ref = np.load(outputs)
    log_probs, _, index, labels = model.classify_batch(torch.from_numpy(ref["waveforms"]))
    np.testing.assert_allclose(log_probs.numpy(), ref["logprobs"], atol=2e-4, rtol=0)
    assert (index.numpy() == ref["logprobs"].argmax(1)).all()
    for word, label in zip(ref["words"], labels):
        if word in GSC_LABELS:
            assert label == word
    # file interface: one waveform, written losslessly
    wav = tmp_path / "w.wav"
    sf.write(wav, ref["waveforms"][0], 16000, subtype="FLOAT")
    label, lp = model.classify_file(str(wav))
    assert label == labels[0]
    np.testing.assert_allclose(lp.numpy(), ref["logprobs"][0], atol=2e-4, rtol=0)
    importance = model.importance_map(str(wav))
    assert importance.shape == (257, 126)
    err = np.abs((1.0 - importance.numpy()) - ref["noise_mask"][0])
    assert err.max() < 1e-3 and (err <= 1e-5).mean() > 0.99  # as tests/test_reference.py


@pytest.mark.parametrize("frontend", [{}, {"top_db": 80, "normalize_input": True}],
                         ids=["paper", "stable"])
def test_kws_system_round_trips(tmp_path, generator_ckpt, frontend):
    exp = tmp_path / "exp"
    recognizer = fake_kws_system(str(exp), overrides=frontend)
    out = tmp_path / "model"
    assert export_main(["--exp_dir", str(exp), "--system", "baseline", "--generator", generator_ckpt,
                        "--out", str(out)]) == 0
    model = load(out, tmp_path)
    assert model.mods.stft.top_db == frontend.get("top_db")
    wavs = 0.1 * torch.randn(4, 16000, generator=torch.Generator().manual_seed(0))
    wavs[1, 8000:] = 0.0  # digital silence: where the two front-ends differ
    lens = torch.tensor([1.0, 1.0, 0.7, 0.5])
    stft = STFT(top_db=frontend.get("top_db"))
    with torch.no_grad():
        spec = stft(wavs)
        before = recognizer(stft.db(spec), stft.frame_mask(lens, spec.shape[-1]))
    after, _, _, labels = model.classify_batch(wavs, lens)
    torch.testing.assert_close(after, before, atol=1e-6, rtol=0)
    assert labels == [GSC_LABELS[i] for i in before.argmax(-1).tolist()]
    # the exported folder serves as a generator too, with its own front-end
    from iaug.cli.plot import main as plot_main
    from iaug.data.audio import write_wav
    from iaug.evaluate import generator_with_frontend

    _, gen_stft = generator_with_frontend(str(out))
    assert gen_stft.top_db == frontend.get("top_db")
    write_wav(tmp_path / "a.wav", wavs[0].numpy())
    assert plot_main(["importance", "--generator", str(out), "--out", str(tmp_path / "m.png"),
                      str(tmp_path / "a.wav")]) == 0


def test_a_recognizer_without_an_stft_gets_the_generators_own(tmp_path, generator_ckpt):
    # e.g. the digits recipe's fbank classifier with a generator trained on the
    # stable front-end: the exported model's importance maps read what it read
    from iaug.export import REFERENCE_RECOGNIZER, write_folder
    gen_dir = tmp_path / "generator"
    gen_dir.mkdir()
    (gen_dir / "hyperparams.yaml").write_text(STABLE_FRONTEND_HPARAMS)
    assert generator_top_db(str(gen_dir)) == 80
    assert generator_top_db(generator_ckpt) is None  # a bare .ckpt: the paper's raw dB
    state = torch.load(generator_ckpt)
    rec = Recognizer(num_classes=len(GSC_LABELS))
    for top_db in (80, None):
        out = write_folder(str(tmp_path / f"m{top_db}"), REFERENCE_RECOGNIZER.format(
            n_bins=257, num_classes=len(GSC_LABELS)), list(GSC_LABELS), rec.state_dict(), state,
            ["test"], top_db=top_db)
        assert load(out, tmp_path / f"s{top_db}").mods.stft.top_db == top_db


def test_export_errors(tmp_path, capsys):
    assert export_main(["--exp_dir", str(tmp_path), "--system", "missing", "--out",
                        str(tmp_path / "o")]) == 1
    assert "hyperparams.yaml missing" in capsys.readouterr().err
    fake_kws_system(str(tmp_path))
    assert export_main(["--exp_dir", str(tmp_path), "--system", "baseline", "--out",
                        str(tmp_path / "o")]) == 1  # no <exp_dir>/generator
    assert "generator" in capsys.readouterr().err


def test_export_never_writes_into_a_folder_that_is_not_a_model(tmp_path, capsys, generator_ckpt):
    fake_kws_system(str(tmp_path))
    baseline = tmp_path / "baseline"
    training_hparams = (baseline / "hyperparams.yaml").read_text()
    args = ["--exp_dir", str(tmp_path), "--system", "baseline", "--generator", generator_ckpt]
    assert export_main([*args, "--out", str(baseline)]) == 1
    err = capsys.readouterr().err
    assert "is a folder that is not an exported model" in err and len(err.strip().splitlines()) == 1
    assert (baseline / "hyperparams.yaml").read_text() == training_hparams
    model = tmp_path / "model"
    assert export_main([*args, "--out", str(model)]) == 0
    assert export_main([*args, "--out", str(model)]) == 0  # an exported model: replaced
