"""Hyperparameters without copies: each arm file holds only what makes it
that arm, over its base; every arm differs from the baseline only in the keys
that define it."""

import io
import os
import re

import pytest
import ruamel.yaml

from iaug.hparams import composed_yaml
from iaug.recipe import load

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "egs")
KWS, ASR, DIGITS = (os.path.join(ROOT, *p, "hparams") for p in
                    (("gsc_qut", "kws"), ("librispeech", "asr"), ("gsc_qut", "digits")))

NOISE = {"output_folder", "init_recognizer", "snr_db", "noise_csv", "noise_bank", "per_utterance_gain",
         "noise_mixer"}
IA = NOISE | {"init_generator", "generator", "modules", "init_from", "frozen"}
GEN = IA | {"mask_clip", "loss_weights", "checkpointer"}
SPEC = {"time_mask_width", "freq_mask_width", "spec_masking", "spec_augment"}
MASKING = {"output_folder", "init_recognizer"} | SPEC
ARMS = {
    (KWS, "noise"): NOISE | {"snr_candidates"}, (KWS, "null_importantaug"): NOISE,
    (KWS, "importantaug"): IA | {"snr_candidates"},
    (KWS, "binarized"): IA | {"snr_candidates", "q", "q_candidates"}, (KWS, "generator"): GEN,
    (KWS, "specaugment"): MASKING, (KWS, "sb_augment"): MASKING | {"noise_csv", "wav_augment"},
    (KWS, "importantaug_specaugment"): IA | {"snr_candidates"} | SPEC,
    (ASR, "noise"): NOISE | {"snr_candidates"}, (ASR, "null_importantaug"): NOISE,
    (ASR, "importantaug"): IA, (ASR, "generator"): GEN,
    (DIGITS, "importantaug"): {"output_folder", "init_recognizer", "init_generator", "noise_csv",
                               "snr_db", "wav_augment"},
}


def tree(path):
    return ruamel.yaml.YAML().load(composed_yaml(path))


def dump(node):
    out = io.StringIO()
    ruamel.yaml.YAML().dump({"x": node}, out)
    return out.getvalue()


def differing(a, b):
    return {k for k in set(a) | set(b) if k not in a or k not in b or dump(a[k]) != dump(b[k])}


@pytest.mark.parametrize("folder,arm", sorted(ARMS), ids=lambda x: os.path.basename(str(x)))
def test_arm_differs_from_baseline_only_where_it_is_that_arm(folder, arm):
    baseline = tree(os.path.join(folder, "baseline.yaml"))
    assert differing(tree(os.path.join(folder, f"{arm}.yaml")), baseline) == ARMS[(folder, arm)]


def own_keys(path):
    with open(path) as f:
        own = ruamel.yaml.YAML().load(f)
    base = own.pop("base", None)
    return own, [base] if isinstance(base, str) else base or []


@pytest.mark.parametrize("folder,arm", sorted(ARMS), ids=lambda x: os.path.basename(str(x)))
def test_arm_file_restates_nothing_of_its_base(folder, arm, tmp_path):
    own, bases = own_keys(os.path.join(folder, f"{arm}.yaml"))
    bases_only = tmp_path / "bases.yaml"
    bases_only.write_text(f"base: {[os.path.join(folder, b) for b in bases]}\n")
    base = tree(str(bases_only))
    for key, value in own.items():
        if key in base and not isinstance(value, dict):
            assert dump(value) != dump(base[key]), f"{arm}.yaml repeats its base's {key}"


@pytest.mark.parametrize("folder", [KWS, ASR, DIGITS])
def test_arms_are_at_most_two_bases_from_the_baseline(folder):
    # an arm over baseline.yaml, or over a method file over baseline.yaml; the
    # blocks its base list adds hold settings only, no base of their own
    def chain(name):
        _, bases = own_keys(os.path.join(folder, name))
        if not bases:
            return [name]
        for block in bases[1:]:
            assert block.startswith("blocks/") and not own_keys(os.path.join(folder, block))[1], name
        return [name, *chain(bases[0])]

    for name in sorted(os.listdir(folder)):
        if name.endswith(".yaml") and name != "data.yaml":
            assert chain(name)[-1] == "baseline.yaml" and len(chain(name)) <= 3, chain(name)


def test_base_list_and_remove(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\ny: {p: 1, q: 2}\nz: 3\n")
    (tmp_path / "b.yaml").write_text("x: 2\ny: {q: 5}\n")
    (tmp_path / "arm.yaml").write_text("base: [a.yaml, b.yaml]\ny:\n    p: !remove\nz: !remove\n")
    assert dict(tree(str(tmp_path / "arm.yaml"))) == {"x": 2, "y": {"q": 5}}
    (tmp_path / "typo.yaml").write_text("base: a.yaml\nw: !remove\n")
    with pytest.raises(SystemExit, match="typo.yaml: 'w: !remove' names no setting of its base"):
        composed_yaml(str(tmp_path / "typo.yaml"))


def test_unknown_override_is_named(tmp_path):
    with pytest.raises(SystemExit, match="unknown setting 'patiance'"):
        composed_yaml(os.path.join(KWS, "noise.yaml"), "patiance: 1")


def test_arm_builds_the_arm(tmp_path):
    # the composed file builds what it says: ImportantAug's mixer uses the
    # rolled learned mask of its (frozen) generator
    import soundfile as sf
    import numpy as np
    os.makedirs(tmp_path / "manifests")
    sf.write(tmp_path / "n.wav", np.zeros(1600, "float32"), 16000)
    (tmp_path / "manifests" / "noise_train.csv").write_text(f"ID,wav\nn,{tmp_path / 'n.wav'}\n")
    hp = load(os.path.join(KWS, "importantaug.yaml"), {"data_dir": str(tmp_path)})
    policy = hp["noise_mixer"].policy
    assert type(policy).__name__ == "RolledMaskOrOnes" and policy.mask.generator is hp["generator"]
    assert hp["noise_mixer"].snr_db == -12.5 and hp["frozen"] == ["generator"]
    assert set(hp["modules"]) == {"stft", "recognizer", "generator"}


def test_bad_settings_are_named_before_any_work(tmp_path):
    import subprocess
    import sys

    from iaug.recipe import load_hparams

    def refused(*args):
        # load_hparams is what the training scripts run first; its SystemExit
        # is what they print: one line, exit status 1
        with pytest.raises(SystemExit) as e:
            load_hparams([*args, "--data_dir", str(tmp_path)])
        assert isinstance(e.value.code, str) and "\n" not in e.value.code, e.value.code
        return e.value.code

    script = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "train_recognizer.py")
    arm = tmp_path / "typo.yaml"
    arm.write_text("base: " + os.path.join(KWS, "noise.yaml") + "\npatiance: 1\n")
    preset = tmp_path / "presets.yaml"
    preset.write_text("per_file:\n    generatr: {number_of_epochs: 1}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("batch_size: 8\nper_file:\n  noise: {snr_db: [1, 2\n")
    # the real command, once: its stderr is that one line, no traceback
    proc = subprocess.run([sys.executable, script, os.path.join(KWS, "noise.yaml"),
                           "--data_dir", str(tmp_path), "--batch_size", "abc"], capture_output=True, text=True)
    message = "batch_size must be an integer >= 1, got 'abc'"
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-500:]
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for args, message in (
            (["--batch_size", "abc"], "batch_size must be an integer >= 1, got 'abc'"),
            (["--lr", "-0.1"], "lr must be a number > 0, got -0.1"),
            (["--snr_db", "[15, -12.5]"], "snr_db must be a number or a range [low, high], got [15, -12.5]"),
            (["--patiance", "1"], "unknown setting 'patiance'"),
            (["--preset", str(preset)], "per_file entry 'generatr' names no hparams file"),
            (["--number_of_epochs", "0"], "number_of_epochs must be an integer >= 1, got 0"),
            (["--preset", str(broken)], f"{broken}: not valid yaml at line 4 (")):
        assert message in refused(os.path.join(KWS, "noise.yaml"), *args)
    assert "patiance used by nothing (a typo?)" in refused(str(arm))
    arm.write_text("base: noise.yaml\nsnr_db: [1\n")  # an hparams file that is not yaml
    assert f"{arm}: not valid yaml at line " in refused(str(arm))


@pytest.mark.parametrize("folder", [KWS, ASR, DIGITS])
def test_every_setting_is_used(folder):
    # nothing built or set that the arm does not use; a `<key>` in a comment
    # is no use of it
    from iaug.recipe import unused_settings

    for name in sorted(os.listdir(folder)):
        if name.endswith(".yaml") and name != "data.yaml":
            text = re.sub(r"(?m)(^|\s)#.*$", "", composed_yaml(os.path.join(folder, name)))
            assert unused_settings(text) == [], name
