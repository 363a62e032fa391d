"""iaug.plotting and iaug-plot write valid PNG files."""

import csv
import os
import subprocess
import sys

import matplotlib.image
import pytest
import torch

from iaug.cli.plot import main as plot_main
from iaug.plotting import plot_error_vs_snr, plot_importance_maps

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert os.path.getsize(path) > 0
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def write_results(path, metric="error_rate"):
    rows = [("baseline", "test", "", 6.7), ("importantaug", "test", "", 5.0)]
    for system, base in (("baseline", 30.0), ("importantaug", 25.0)):
        for family in ("qut", "musan"):
            for snr in (-12.5, 0, 10, 20):
                rows.append((system, family, f"{snr:g}", base - snr / 2))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["system", "test_set", "snr_db", metric, "num_utts"])
        writer.writerows([(*row, 100) for row in rows])
    return path


def test_importance_maps(tmp_path):
    t = torch.arange(16000) / 16000
    wavs = [0.3 * torch.sin(2 * torch.pi * 440 * t), 0.1 * torch.randn(12000)]  # two lengths
    masks = [torch.rand(257, 126), torch.rand(257, 94)]
    out = plot_importance_maps(wavs, masks, str(tmp_path / "sub" / "maps.png"), titles=["tone", "noise"])
    assert_png(out)


@pytest.mark.parametrize("metric_name", ["error rate", "WER"])
def test_error_vs_snr(tmp_path, metric_name):
    out = plot_error_vs_snr(write_results(tmp_path / "results.csv"), str(tmp_path / "snr.png"),
                            metric_name)
    assert_png(out)


def test_error_vs_snr_needs_a_results_table(tmp_path):
    with pytest.raises(ValueError, match="error_rate"):
        plot_error_vs_snr(write_results(tmp_path / "results.csv", "wer"), str(tmp_path / "x.png"))


def test_cli(tmp_path, toy_corpus, generator_ckpt):
    wavs = [os.path.join(toy_corpus, "wav", "bed", f"spk{i}_nohash_0.wav") for i in range(2)]
    assert plot_main(["importance", "--generator", generator_ckpt, "--out", str(tmp_path / "i.png"),
                      *wavs]) == 0
    assert_png(tmp_path / "i.png")
    assert plot_main(["snr", str(write_results(tmp_path / "r.csv")), "--out", str(tmp_path / "s.png")]) == 0
    assert_png(tmp_path / "s.png")
    assert plot_main(["importance", "--generator", str(tmp_path / "none"), "--out",
                      str(tmp_path / "x.png"), wavs[0]]) == 1
    # the console entry point's module runs as a script too
    proc = subprocess.run([sys.executable, "-m", "iaug.cli.plot", "snr", str(tmp_path / "r.csv"),
                           "--out", str(tmp_path / "s2.png")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert_png(tmp_path / "s2.png")
