"""One tiny experiment per recipe, trained once for the whole session: the
tests that read its results share it; a test that changes an experiment
works on a copy (``shutil.copytree(..., symlinks=True)``: the dev choices
are relative links), never on the shared one."""

import os
import shutil
import types

import pytest

from helpers import RECIPES, make_generator_ckpt, make_toy_corpus, run_script


@pytest.fixture(scope="session")
def kws_tiny(tmp_path_factory):
    """The KWS recipe, every stage, on the tiny synth corpus, in folders whose
    names hold spaces, with recordings "of people" (here: tones) to check
    against; its sweeps' systems and its scoring two side by side, however
    many cores there are."""
    where = tmp_path_factory.mktemp("kws")
    data, exp = str(where / "my data"), str(where / "my exp")
    people = os.path.join(make_toy_corpus(str(where / "people")), "wav")
    args = ["--corpus", "synth", "--preset", "tiny", "--data_dir", data, "--exp_dir", exp, "--jobs", "2"]
    env = {"IAUG_REAL_SPEECH_DIR": people}
    log = run_script(RECIPES["kws"], *args, env=env)
    return types.SimpleNamespace(data=data, exp=exp, people=people, args=args, env=env, log=log)


@pytest.fixture(scope="session")
def digits_tiny(tmp_path_factory):
    """The digits recipe's tiny preset on the toy corpus, with any generator."""
    where = tmp_path_factory.mktemp("digits")
    data = make_toy_corpus(str(where / "data"), labels=["zero", "one", "two", "bed"])
    noisy = os.path.join(data, "manifests", "noisy")
    os.makedirs(noisy)
    for snr in ("0", "-12.5"):  # stand-ins for the noisy test sets (same columns)
        shutil.copy(os.path.join(data, "manifests", "test.csv"), os.path.join(noisy, f"qut_snr{snr}.csv"))
    exp = str(where / "exp")
    generator = make_generator_ckpt(where / "generator.ckpt")
    log = run_script(RECIPES["digits"], "--preset", "tiny", "--data_dir", data, "--exp_dir", exp,
                     "--generator", generator, timeout=900)
    return types.SimpleNamespace(data=data, exp=exp, log=log)


@pytest.fixture(scope="session")
def asr_tiny(tmp_path_factory):
    """The speech-recognition recipe, every stage, on the tiny synth corpus."""
    where = tmp_path_factory.mktemp("asr")
    data, exp = str(where / "data"), str(where / "exp")
    args = ["--corpus", "synth", "--preset", "tiny", "--data_dir", data, "--exp_dir", exp,
            "--nthreads", "1", "--jobs", "2"]
    log = run_script(RECIPES["asr"], *args)
    return types.SimpleNamespace(data=data, exp=exp, args=args, log=log)
