"""The error-against-SNR figure shows every system: equal values do not hide
one line under another, and the legend covers no data."""

import csv

from iaug.plotting import error_vs_snr_figure, plot_error_vs_snr

SYSTEMS = ["baseline", "noise", "importantaug", "null_importantaug", "binarized"]


def write(path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["system", "test_set", "snr_db", "error_rate", "num_utts"])
        for s in SYSTEMS:  # every system the same error everywhere: the worst case
            w.writerow([s, "test", "", 50.0, 10])
            for snr in (-12.5, -10, 0, 10, 20):
                w.writerow([s, "qut", snr, 50.0, 10])
    return str(path)


def test_every_system_visible_and_legend_outside(tmp_path):
    fig = error_vs_snr_figure(write(tmp_path / "r.csv"))
    ax = fig.axes[0]
    points = {}
    for line in ax.get_lines():
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            points.setdefault((round(float(x), 6), float(y)), []).append(line.get_label())
    assert all(len(labels) == 1 for labels in points.values())  # no point drawn twice
    markers = {line.get_marker() for line in ax.get_lines()}
    assert len(markers) == len(SYSTEMS)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # right of the axes
    assert legend.x1 <= fig.get_window_extent(renderer).x1 + 1  # and inside the picture
    out = plot_error_vs_snr(write(tmp_path / "r2.csv"), str(tmp_path / "snr.png"))
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
