import numpy as np
import soundfile as sf
import torch

from iaug.analysis import diagnostic_lines, generator_report, protects_speech, speech_bins
from iaug.dataio import audio_dataset
from iaug.mixing import NoiseBank
from iaug.models import STFT, Recognizer
from iaug.tasks import KeywordSpotting

from helpers import write_manifest


class Constant(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, spec_db):
        return torch.full_like(spec_db, self.value)


class LevelMask(torch.nn.Module):
    """Noise mask ``low`` on the bins within 40 dB of the loudest, else ``high``."""

    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, spec_db):
        loud = spec_db >= spec_db.flatten(1).amax(1)[:, None, None] - 40.0
        return torch.where(loud, torch.full_like(spec_db, self.low), torch.full_like(spec_db, self.high))


class BandReader(torch.nn.Module):
    """A recognizer that reads only the bins ``lo:hi`` (``inside=True``) or
    only the others: seeded random weights on their mean dB over time."""

    reads = "spectrogram"

    def __init__(self, lo, hi, inside, num_classes=4, n_bins=257):
        super().__init__()
        keep = torch.zeros(n_bins)
        keep[lo:hi] = 1.0
        self.register_buffer("keep", keep if inside else 1.0 - keep)
        gen = torch.Generator().manual_seed(0)
        self.weight = torch.nn.Parameter(torch.randn(num_classes, n_bins, generator=gen))

    def forward(self, spec_db, frame_mask=None):
        feats = spec_db.mean(-1) * self.keep
        return torch.log_softmax((feats - feats.mean(1, keepdim=True)) @ self.weight.T, -1)


def test_report_measures_mask_and_energy(toy_corpus):
    task = KeywordSpotting(labels=["backward", "bed", "bird", "cat"])
    data = audio_dataset(f"{toy_corpus}/manifests/train.csv", task)
    bank = NoiseBank.from_csv(f"{toy_corpus}/manifests/noise_train.csv")
    torch.manual_seed(0)
    rec = Recognizer(num_classes=4)
    half = generator_report(STFT(), rec, task, Constant(0.5), data, bank, batch_size=8)
    assert abs(half["mean_mask"] - 0.5) < 1e-6
    assert abs(half["mask_speech"] - 0.5) < 1e-6 and abs(half["mask_other"] - 0.5) < 1e-6
    assert abs(half["noise_energy_share"] - 0.25) < 1e-4  # amplitude 0.5 -> energy 0.25
    full = generator_report(STFT(), rec, task, Constant(1.0), data, bank, batch_size=8)
    assert abs(full["noise_energy_share"] - 1.0) < 1e-3
    assert full["acc_masked_noise"] == full["acc_unmasked_noise"]  # clipped at 1 - 1e-4
    assert half["num_utts"] == 16


def test_speech_bins_are_within_40_db_of_the_loudest_real_bin():
    spec_db = torch.full((2, 4, 3), -100.0)
    spec_db[0, 1, 1] = 0.0      # the loudest bin of utterance 0
    spec_db[0, 2, 1] = -39.0    # within 40 dB
    spec_db[0, 3, 1] = -41.0    # not
    spec_db[1, 0, 2] = 50.0     # utterance 1's loudest sits in a padded frame ...
    spec_db[1, 0, 0] = 10.0     # ... so its loudest real bin is this one
    frame_mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    bins = speech_bins(spec_db, frame_mask)
    assert bins[0].nonzero().tolist() == [[1, 1], [2, 1]]
    assert bins[1].nonzero().tolist() == [[0, 0]]


def test_regions_read_the_raw_db_whatever_the_front_ends_floor():
    # a tone in faint noise: a floor 40 dB below the peak would make every
    # bin "within 40 dB of the peak"; the regions are those of the raw dB
    from iaug.analysis import regions

    t = torch.arange(16000) / 16000.0
    wav = (torch.sin(2 * torch.pi * 440 * t) + 1e-4 * torch.randn(16000, generator=torch.Generator().manual_seed(0)))[None]
    frame_mask = torch.ones(1, 126)
    spec = STFT()(wav)
    speech, other = regions(spec, frame_mask)
    assert speech.equal(speech_bins(STFT().db(spec), frame_mask)) and 0 < speech.float().mean() < 0.2
    assert other.equal(~speech)
    assert speech_bins(STFT(top_db=40).db(spec), frame_mask).all()  # what it avoids


def test_report_says_where_the_mask_puts_the_noise(toy_corpus):
    task = KeywordSpotting(labels=["backward", "bed", "bird", "cat"])
    data = audio_dataset(f"{toy_corpus}/manifests/train.csv", task)
    bank = NoiseBank.from_csv(f"{toy_corpus}/manifests/noise_train.csv")
    rec = Recognizer(num_classes=4)
    protect = generator_report(STFT(), rec, task, LevelMask(0.2, 0.9), data, bank, batch_size=8)
    assert abs(protect["mask_speech"] - 0.2) < 1e-6 and abs(protect["mask_other"] - 0.9) < 1e-6
    assert 0 < protect["speech_share"] < 0.2  # a tone: a few bins of the 257
    assert protects_speech(protect, margin=0.05)
    assert "protects the speech" in diagnostic_lines(protect)[0]
    inverse = generator_report(STFT(), rec, task, LevelMask(0.9, 0.2), data, bank, batch_size=8)
    assert not protects_speech(inverse)
    assert "MORE noise on the speech" in diagnostic_lines(inverse)[0]


def tone_corpus(root, n=12):
    """Clips of a 1 kHz tone (bin 32) over a quiet floor, four labels."""
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    rows = []
    for i in range(n):
        path = f"{root}/tone{i}.wav"
        wav = 0.3 * np.sin(2 * np.pi * 1000 * t + i) + 3e-4 * rng.standard_normal(16000)
        sf.write(path, wav.astype("float32"), 16000, subtype="PCM_16")
        rows.append({"ID": f"u{i}", "duration": 1.0, "wav": path,
                     "label": ["backward", "bed", "bird", "cat"][i % 4]})
    write_manifest(f"{root}/tones.csv", rows, ["ID", "duration", "wav", "label"])
    return f"{root}/tones.csv"


def test_sensitivity_finds_the_region_a_recognizer_reads(toy_corpus, tmp_path):
    task = KeywordSpotting(labels=["backward", "bed", "bird", "cat"])
    data = audio_dataset(tone_corpus(tmp_path), task)
    bank = NoiseBank.from_csv(f"{toy_corpus}/manifests/noise_train.csv")
    report = {}
    for name, reader in {"speech": BandReader(31, 34, inside=True),
                         "other": BandReader(20, 45, inside=False)}.items():
        report[name] = generator_report(STFT(), reader, task, None, data, bank, batch_size=4,
                                        sensitivity_snrs=(10.0, 0.0))
        assert "mask_speech" not in report[name] and report[name]["num_utts"] == 12
    clean = {k: 100 - r["acc_clean"] for k, r in report.items()}
    for snr in ("10", "0"):
        # noise where a recognizer does not read leaves every decision as it was
        assert report["speech"]["sensitivity"][snr]["other"] == clean["speech"]
        assert report["other"]["sensitivity"][snr]["speech"] == clean["other"]
    # nor does the mask there move the loss much (the regions are not exactly
    # the readers' bands: a frame of bin 32 falls out of the speech bins, the
    # splatter of the edge frames into them)
    grad = report["speech"]["loss_gradient"]
    assert abs(grad["other"]) < 0.01 * abs(grad["speech"]), grad
    grad = report["other"]["loss_gradient"]
    assert abs(grad["speech"]) < abs(grad["other"]), grad
    # a range of SNRs (the multi-condition runs'): one draw per utterance
    ranged = generator_report(STFT(), BandReader(31, 34, inside=True), task, None, data, bank,
                              snr_db=[-12.5, 15.0], batch_size=4, sensitivity_snrs=())
    assert ranged["loss_gradient"]["speech"] != 0.0
    assert "on the speech bins only" in diagnostic_lines(report["speech"])[0]


class SpeechReader(torch.nn.Module):
    """A recognizer that reads only the tone's bins (31-33, the speech bins
    of :func:`tone_corpus`): right (label 0) while their mean dB stays at the
    clean value, wrong as noise raises it. Noise anywhere else cannot matter."""

    reads = "spectrogram"

    def __init__(self, clean_db):
        super().__init__()
        self.clean_db = clean_db

    def forward(self, spec_db, frame_mask=None):
        level = spec_db[:, 31:34, :].mean(dim=(1, 2))
        wrong = 50.0 * torch.relu(level - self.clean_db)
        logits = torch.stack([-wrong, torch.full_like(wrong, -1.0), *[torch.full_like(wrong, -9.0)] * 2], -1)
        return torch.log_softmax(logits, -1)


def test_stage_a_keeps_the_noise_off_what_the_recognizer_reads(toy_corpus, tmp_path):
    """The control that separates the code from the data: against a
    recognizer that by construction reads only the speech bins, the paper's
    generator objective puts less noise on them than elsewhere."""
    import os

    from iaug.brains import GeneratorBrain
    from iaug.recipe import load

    csv = tone_corpus(tmp_path)
    with open(csv) as f:  # every clip is label 0 for this recognizer
        text = f.read()
    for label in ("bed", "bird", "cat"):
        text = text.replace(f",{label}\n", ",backward\n")
    with open(csv, "w") as f:
        f.write(text)
    hparams_dir = os.path.join(os.path.dirname(__file__), "..", "..", "egs", "gsc_qut", "kws", "hparams")
    hparams = load(os.path.join(hparams_dir, "generator.yaml"), {
        "data_dir": toy_corpus, "exp_dir": str(tmp_path / "exp"), "init_recognizer": None,
        # a learning rate at which the outcome does not turn on float rounding
        # (at 0.01 one thread count's run collapsed to a flat mask of 0.65)
        "number_of_epochs": 40, "patience": 40, "batch_size": 4, "lr": 0.003, "num_workers": 0,
        "labels": ["backward", "bed", "bird", "cat"]})
    stft = hparams["stft"]
    task = hparams["task"]
    data = audio_dataset(csv, task)
    with torch.no_grad():
        wav = data[0]["sig"][None]
        clean = stft.db(stft(wav))[:, 31:34, :].mean()
    reader = SpeechReader(float(clean))
    hparams["modules"]["recognizer"] = reader
    brain = GeneratorBrain(modules=hparams["modules"], opt_class=hparams["opt_class"], hparams=hparams,
                           run_opts={"device": "cpu", "noprogressbar": True},
                           checkpointer=hparams["checkpointer"])
    brain.fit(hparams["epoch_counter"], data, data,
              train_loader_kwargs=hparams["train_dataloader_opts"],
              valid_loader_kwargs=hparams["valid_dataloader_opts"])
    bank = NoiseBank.from_csv(f"{toy_corpus}/manifests/noise_train.csv")
    # the loss's gradient at plain noise already points the way stage A went
    alone = generator_report(stft, reader, task, None, data, bank, batch_size=4)
    grad = alone["loss_gradient"]
    assert grad["speech"] > 100 * abs(grad["other"]), grad
    assert "starts by protecting the speech" in diagnostic_lines(alone)[-1]
    report = generator_report(stft, reader, task, brain.modules.generator, data, bank, batch_size=4)
    assert protects_speech(report, margin=0.25), report
    # the log term raises the mask from its start (about 0.5) where noise costs nothing
    assert report["mask_other"] > 0.5, report


def test_iaug_diagnose_prints_and_writes_the_report(toy_corpus, tmp_path, capsys, generator_ckpt):
    import json

    from helpers import fake_kws_system
    from iaug.cli.diagnose import main

    fake_kws_system(str(tmp_path / "exp"))
    args = ["--recognizer", str(tmp_path / "exp" / "baseline"), "--generator", generator_ckpt,
            "--noise_csv", f"{toy_corpus}/manifests/noise_dev.csv", "--out", str(tmp_path / "d.json")]
    assert main([*args, "--manifest", f"{toy_corpus}/manifests/test.csv"]) == 0
    out = capsys.readouterr().out.splitlines()[-3:]
    assert out[0].startswith("mean noise mask: ") and out[1].startswith("recognizer error: clean ")
    assert out[2].startswith("d loss / d mask at plain noise: ")
    report = json.load(open(tmp_path / "d.json"))
    assert report["num_utts"] == 4 and set(report["sensitivity"]) == {"10", "0"}
    assert main([*args, "--manifest", f"{toy_corpus}/wav"]) == 0  # a folder of <label>/*.wav
    assert json.load(open(tmp_path / "d.json"))["num_utts"] == 24
    capsys.readouterr()
    assert main([*args, "--manifest", str(tmp_path / "nothing.csv")]) == 1
    assert capsys.readouterr().err.strip() == f"iaug-diagnose: error: no such manifest: {tmp_path}/nothing.csv"


def test_the_reports_diagnosis_is_reused_only_for_the_same_audio(toy_corpus, tmp_path, generator_ckpt):
    from helpers import fake_kws_system
    from iaug.cli.diagnose import cached_diagnosis

    fake_kws_system(str(tmp_path / "exp"))
    args = (str(tmp_path / "d.json"), str(tmp_path / "exp" / "baseline"),
            f"{toy_corpus}/manifests/test.csv", f"{toy_corpus}/manifests/noise_dev.csv", generator_ckpt)
    first = cached_diagnosis(*args)
    assert first["manifest"] == args[2] and cached_diagnosis(*args) == first
    wav = f"{toy_corpus}/wav/bed/spk5_nohash_0.wav"  # a test clip rebuilt in place
    x, rate = sf.read(wav, dtype="float32")
    sf.write(wav, 0.5 * x, rate, subtype="PCM_16")
    assert cached_diagnosis(*args)["manifest_sha256"] != first["manifest_sha256"]
