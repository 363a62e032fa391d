"""A data step's marker notices that its inputs changed: stage 1 is redone
when audio files were added to or changed in the corpus."""

import os
import shutil

from helpers import prepare_kws_data
from iaug.data.steps import audio_fingerprint, step


def test_step_reruns_when_audio_changes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.wav").write_bytes(b"0" * 10)
    runs = []

    def again():
        return step(tmp_path, "s", {"audio": audio_fingerprint(tmp_path)}, [tmp_path / "a"],
                    lambda: runs.append(1))

    assert again() and not again()
    (tmp_path / "a" / "y.wav").write_bytes(b"1" * 10)  # added
    assert again() and not again()
    (tmp_path / "a" / "y.wav").write_bytes(b"2" * 11)  # changed
    assert again() and not again()
    (tmp_path / "a" / "notes.txt").write_text("not audio")
    assert not again()
    (tmp_path / "a" / "y.wav").unlink()  # removed
    assert again() and len(runs) == 4


def run(*args):
    proc = prepare_kws_data(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def rows(data, split):
    with open(os.path.join(data, "manifests", f"{split}.csv")) as f:
        return sum(1 for _ in f) - 1


def test_manifest_stage_sees_a_new_clip(tiny_synth, tmp_path):
    data = str(tmp_path / "d")
    shutil.copytree(tiny_synth, data)  # stage 0 done: its copy is ours to change
    run("manifests", "--data_dir", data)
    assert "manifests: already done, skipped" in run("manifests", "--data_dir", data)
    before = sum(rows(data, s) for s in ("train", "dev", "test"))
    yes = os.path.join(data, "speech_commands", "yes")
    clip = sorted(os.listdir(yes))[0]
    shutil.copy(os.path.join(yes, clip), os.path.join(yes, "newspeaker_nohash_0.wav"))
    out = run("manifests", "--data_dir", data)
    assert "already done" not in out
    assert sum(rows(data, s) for s in ("train", "dev", "test")) == before + 1


def test_a_copied_data_folder_gets_manifests_of_its_own(tiny_synth, tmp_path):
    data, copy = tmp_path / "d", tmp_path / "copy"
    # a copy of stages 0-1 done: the hard links below share its files, not the shared corpus'
    shutil.copytree(tiny_synth, data)
    run("manifests", "--data_dir", str(data))
    shutil.copytree(data, copy, copy_function=os.link)  # as `cp -al`: same files, same times
    assert "already done" not in run("manifests", "--data_dir", str(copy))
    with open(copy / "manifests" / "train.csv") as f:
        wavs = [line.split(",")[2] for line in list(f)[1:]]
    assert wavs and all(w.startswith(str(copy.resolve())) for w in wavs), wavs[:2]


def test_content_sha256_is_the_audio_wherever_it_lies(tmp_path):
    """Two copies of a corpus in other folders hash the same; one changed
    sample, or another file name, does not."""
    from iaug.data.steps import content_sha256

    def corpus(root, samples=b"\x01\x02" * 8):
        (root / "a").mkdir(parents=True)
        for name in ("x.wav", "y.wav"):
            (root / "a" / name).write_bytes(samples + name.encode())
        (root / "m.csv").write_text("ID,wav\n" + "".join(f"{n},{root / 'a' / n}\n" for n in ("x.wav", "y.wav")))
        return content_sha256([root / "m.csv"], root)

    first = corpus(tmp_path / "one")
    assert corpus(tmp_path / "elsewhere" / "two") == first
    assert corpus(tmp_path / "three", samples=b"\x01\x03" * 8) != first
    (tmp_path / "one" / "a" / "x.wav").rename(tmp_path / "one" / "a" / "z.wav")
    (tmp_path / "one" / "m.csv").write_text(f"ID,wav\nz,{tmp_path / 'one/a/z.wav'}\ny,{tmp_path / 'one/a/y.wav'}\n")
    assert content_sha256([tmp_path / "one" / "m.csv"], tmp_path / "one") != first
