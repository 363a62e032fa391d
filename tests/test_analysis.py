import torch

from iaug.analysis import generator_report
from iaug.dataio import audio_dataset
from iaug.mixing import NoiseBank
from iaug.models import STFT, Recognizer
from iaug.tasks import KeywordSpotting


class Constant(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, spec_db):
        return torch.full_like(spec_db, self.value)


def test_report_measures_mask_and_energy(toy_corpus):
    task = KeywordSpotting(labels=["backward", "bed", "bird", "cat"])
    data = audio_dataset(f"{toy_corpus}/manifests/train.csv", task)
    bank = NoiseBank.from_csv(f"{toy_corpus}/manifests/noise_train.csv")
    torch.manual_seed(0)
    rec = Recognizer(num_classes=4)
    half = generator_report(STFT(), rec, task, Constant(0.5), data, bank, batch_size=8)
    assert abs(half["mean_mask"] - 0.5) < 1e-6
    assert abs(half["noise_energy_share"] - 0.25) < 1e-4  # amplitude 0.5 -> energy 0.25
    full = generator_report(STFT(), rec, task, Constant(1.0), data, bank, batch_size=8)
    assert abs(full["noise_energy_share"] - 1.0) < 1e-3
    assert full["acc_masked_noise"] == full["acc_unmasked_noise"]  # clipped at 1 - 1e-4
    assert half["num_utts"] == 16
