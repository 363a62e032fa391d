"""Stage 0 for the real corpora, without the internet: offline failure,
resumed and verified downloads, and the whole --corpus gsc path on small
hand-placed archives."""
import http.server
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from helpers import ROOT, prepare_kws_data
from iaug.data import download as dl
from iaug.data.audio import write_wav
from iaug.data.gsc import which_set
from iaug.data.gsc_synth import choose_speaker_ids

REPO = Path(ROOT)
SCRIPT = REPO / "egs/gsc_qut/kws/local/prepare_data.py"
CONFIG = REPO / "egs/gsc_qut/kws/hparams/data.yaml"


def prepare(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


def config_with(tmp_path, **urls):
    cfg = yaml.safe_load(CONFIG.read_text())
    for key, url in urls.items():
        cfg["archives"][key]["url"] = url
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_offline_gsc_fails_fast_with_one_line(tmp_path):
    url = "http://127.0.0.1:9/speech_commands_v0.02.tar.gz"  # discard port: nothing listens
    cfg = config_with(tmp_path, gsc=url)
    # "fast" is measured beyond the script's own start-up (imports), which a
    # loaded machine stretches: no retry loop, no network timeout
    t0 = time.time()
    prepare("--help")
    startup = time.time() - t0
    t0 = time.time()
    r = prepare("download", "--corpus", "gsc", "--data_dir", str(tmp_path / "data"), "--config", str(cfg))
    assert time.time() - t0 < startup + 10
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert url in lines[0] and "speech_commands_v0.02.tar.gz" in lines[0] and "--archive_dir" in lines[0]


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves `payload` with Range support; drops the first full transfer midway."""
    payload = b""
    served = []

    def do_GET(self):
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
        body = self.payload[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.served.append(start)
        if len(self.served) == 1:  # first request: only part of it, then hang up
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    RangeHandler.payload = np.random.default_rng(0).bytes(300_000)
    RangeHandler.served = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/a.bin"
    httpd.shutdown()


def test_download_resumes_and_verifies(server, tmp_path):
    path = dl.fetch(server, "a.bin", tmp_path, log=lambda m: None)
    assert path.read_bytes() == RangeHandler.payload
    assert RangeHandler.served[0] == 0 and RangeHandler.served[1] > 0  # resumed, not restarted
    assert (tmp_path / "a.bin.sha256").exists() and not (tmp_path / "a.bin.part").exists()
    assert dl.fetch(server, "a.bin", tmp_path, log=lambda m: None) == path  # verified, no download
    assert len(RangeHandler.served) == 2
    path.write_bytes(b"x" + RangeHandler.payload[1:])  # corrupted later
    with pytest.raises(dl.DownloadError, match="does not match"):
        dl.fetch(server, "a.bin", tmp_path, log=lambda m: None)


def _tar(path, root, arcroot=None):
    with tarfile.open(path, "w:gz") as t:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file():
                t.add(p, arcname=(Path(arcroot) if arcroot else Path()) / p.relative_to(root))


def fake_archives(tmp_path):
    """Tiny stand-ins for the four real archives, as a user would place them."""
    rng = np.random.default_rng(0)
    arch = tmp_path / "archives"
    arch.mkdir()
    gsc = tmp_path / "src_gsc"
    lists = {"validation": [], "testing": []}
    for sid in choose_speaker_ids(5, seed=7):
        for word in ("yes", "no"):
            rel = f"{word}/{sid}_nohash_0.wav"
            (gsc / word).mkdir(parents=True, exist_ok=True)
            write_wav(gsc / rel, 0.1 * rng.standard_normal(16000))
            lists.get(which_set(rel), []).append(rel)
    (gsc / "_background_noise_").mkdir()
    write_wav(gsc / "_background_noise_/white_noise.wav", 0.1 * rng.standard_normal(32000))
    for s, rels in lists.items():
        (gsc / f"{s}_list.txt").write_text("".join(r + "\n" for r in rels))
    _tar(arch / "speech_commands_v0.02.tar.gz", gsc)
    musan = tmp_path / "src_musan"
    for rel, sec in (("noise/free-sound/noise-free-sound-0000.wav", 3), ("noise/free-sound/noise-free-sound-0001.wav", 2),
                     ("noise/free-sound/noise-free-sound-0002.wav", 2), ("noise/sound-bible/noise-sound-bible-0000.wav", 2),
                     ("noise/sound-bible/noise-sound-bible-0001.wav", 2), ("music/fma/music-fma-0000.wav", 2)):
        (musan / rel).parent.mkdir(parents=True, exist_ok=True)
        write_wav(musan / rel, 0.1 * rng.standard_normal(16000 * sec))
    _tar(arch / "musan.tar.gz", musan, "musan")
    qut = tmp_path / "HOME-LIVINGB-1.wav"
    sf.write(str(qut), 0.1 * rng.standard_normal((48000 * 4, 2)), 48000)  # 48 kHz stereo like QUT
    with zipfile.ZipFile(arch / "qutnoisehome.zip", "w") as z:
        z.write(qut, "QUT-NOISE/HOME-LIVINGB-1.wav")
    rel = lists["testing"][0]
    release = tmp_path / "src_release"
    for folder in ("snr_-10", "snr_0dB"):
        (release / folder / rel).parent.mkdir(parents=True)
        write_wav(release / folder / rel, 0.1 * rng.standard_normal(16000))
    _tar(arch / "SpeechCommands_Musan.tar.gz", release, "SpeechCommands_Musan")
    return arch, lists


def test_gsc_from_placed_archives(tmp_path):
    arch, lists = fake_archives(tmp_path)
    cfg = config_with(tmp_path, **{k: "http://127.0.0.1:9/none" for k in ("gsc", "musan", "qut_home", "gsc_musan")})
    d = tmp_path / "data"
    for cmd in (["download", "--corpus", "gsc", "--archive_dir", str(arch)], ["manifests"]):
        r = prepare_kws_data(*cmd, "--data_dir", str(d), "--config", str(cfg), "--nj", "2")
        assert r.returncode == 0, r.stdout + r.stderr
    assert (d / "downloads/musan.tar.gz.sha256").exists() and not list(arch.glob("*.sha256"))
    noisy = sorted(p.name for p in (d / "noisy_test").iterdir())
    assert noisy == sorted(["musan_snr-10", "musan_snr0"] + [f"qut_snr{s:g}" for s in (-12.5, -10, 0, 10, 20, 30, 40)])
    assert sorted(p.relative_to(d / "noisy_test/qut_snr0").as_posix()
                  for p in (d / "noisy_test/qut_snr0").rglob("*.wav")) == sorted(lists["testing"])
    # 3 + 2 + 2 s of free-sound and 2 + 2 s of sound-bible, one file of each in dev; no music
    train, dev = (sorted(p.name for p in (d / "noise" / s).glob("*.wav")) for s in ("train", "dev"))
    assert len(train) + len(dev) == 11 and dev and not any("music" in n for n in train + dev)
    assert {n.split("-noise-")[0] for n in dev} == {"free-sound", "sound-bible"}
    for name in ("train", "dev", "test", "noise_train", "noise_dev", "noisy/musan_snr-10", "noisy/qut_snr-12.5"):
        assert (d / "manifests" / f"{name}.csv").exists(), name
    r = prepare_kws_data("download", "--corpus", "gsc", "--archive_dir", arch, "--data_dir", d, "--config", cfg)
    assert r.returncode == 0 and "verifying" not in r.stdout  # rerun: nothing fetched, checked or extracted
    r = prepare_kws_data("download", "--corpus", "synth", "--preset", "tiny", "--data_dir", str(d))
    assert r.returncode == 1 and "holds the gsc corpus" in r.stderr
