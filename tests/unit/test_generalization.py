"""The held-out voices and conditions of the corpus generalisation check
(egs/gsc_qut/kws/experiments/generalization.py) and the voice pool option."""
import csv
import importlib.util
import os

import numpy as np
import pytest

from helpers import ROOT
from iaug.data.espeak import VOICES, draw_profile, voice_pool
from iaug.data.signal_chain import settings, wider_profile_ranges

spec = importlib.util.spec_from_file_location(
    "generalization", os.path.join(ROOT, "egs", "gsc_qut", "kws", "experiments", "generalization.py"))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def test_profiles_come_from_the_pool_only():
    rng = np.random.default_rng(0)
    drawn = [draw_profile(rng, voices=["en-029"], variants=["f1", "m2"]) for _ in range(50)]
    assert {p.voice for p in drawn} == {"en-029"} and {p.variant for p in drawn} == {"f1", "m2"}
    # no pool: the former draws, byte for byte
    a = [draw_profile(np.random.default_rng(s)) for s in range(20)]
    b = [draw_profile(np.random.default_rng(s), voices=None, variants=None) for s in range(20)]
    assert a == b and len({p.voice for p in a}) > 1


def test_unknown_voice_is_named():
    with pytest.raises(ValueError, match=r"synth voices: \['en-xx'\] not among"):
        voice_pool(["en-us", "en-xx"])
    with pytest.raises(ValueError, match="synth variants: an empty list"):
        voice_pool(None, [])
    # the chain's extra variants are known only with the chain
    assert voice_pool(None, ["whisper"], ("whisper",))[1] == ("whisper",)
    with pytest.raises(ValueError, match="whisper"):
        voice_pool(None, ["whisper"])


@pytest.mark.parametrize("chain", ["old", "new"])
def test_held_out_corpus_shares_no_voice_and_no_condition_range(chain):
    train, held = gen.config(chain, "train"), gen.config(chain, "heldout")
    t, h = train["synth"]["demo"], held["synth"]["demo"]
    assert t["signal_chain"] == h["signal_chain"] == (chain == "new")
    assert not set(t["voices"]) & set(h["voices"]) and set(t["voices"]) | set(h["voices"]) == set(VOICES)
    assert not set(t["variants"]) & set(h["variants"]) and h["variants"]
    voice_pool(t["voices"], t["variants"], gen.EXTRA_VARIANTS if chain == "new" else ())
    assert held["seed"] != train["seed"]  # other speakers
    ct, ch = settings({**train["signal_chain"], "enabled": True}), settings({**held["signal_chain"], "enabled": True})
    assert ct["room"]["rt60"][1] <= ch["room"]["rt60"][0]
    assert ct["channel"]["telephone_p"] == ct["channel"]["narrowband_p"] == ct["background"]["hum_p"] == 0
    assert min(ch["channel"]["telephone_p"], ch["channel"]["narrowband_p"], ch["background"]["hum_p"]) > 0
    assert wider_profile_ranges(ct)["extra_variants"] == gen.EXTRA_VARIANTS


def test_ablations_change_one_stage_and_wide_trains_on_the_demo_conditions():
    def chain_of(cfg):
        return settings({**cfg["signal_chain"], "enabled": True})
    train, held = chain_of(gen.config("new", "train")), chain_of(gen.config("new", "heldout"))
    stages = list(gen.CONDITIONS["heldout"])
    assert chain_of(gen.config("new", "heldout_voices")) == train
    # the control: the training voices (other speakers) in every held-out condition
    control, new_train = gen.config("new", "heldout_conditions"), gen.config("new", "train")
    assert chain_of(control) == held and control["seed"] != new_train["seed"]
    for key in ("voices", "variants"):
        assert control["synth"]["demo"][key] == new_train["synth"]["demo"][key]
    for stage in stages:
        part = chain_of(gen.config("new", f"heldout_{stage}"))
        assert part[stage] == held[stage] and part[stage] != train[stage]
        assert all(part[s] == train[s] for s in part if s != stage)
    wide = gen.config("wide", "train")
    demo = gen.yaml.safe_load(gen.CONFIG.read_text())
    assert wide["signal_chain"] == demo["signal_chain"] and wide["seed"] == demo["seed"]
    assert wide["synth"]["demo"]["voices"] == gen.config("new", "train")["synth"]["demo"]["voices"]
    w = chain_of(wide)
    assert min(w["channel"]["telephone_p"], w["channel"]["narrowband_p"], w["background"]["hum_p"]) > 0
    assert w["room"]["rt60"][1] > train["room"]["rt60"][1]
    wider = gen.config("wider", "train")
    assert wider["synth"] == wide["synth"] and wider["seed"] == wide["seed"]
    assert chain_of(wider) == {**w, "channel": {**w["channel"], "band_p": 0.3},
                               "room": {**w["room"], "rt60": [0.1, 1.0]}}
    # every chain is scored on held-out corpora of its own kind, each once
    assert [c for c, _ in gen.heldout_corpora(["old", "new", "wide", "wider"])] == \
        ["old_heldout", "new_heldout"] + [f"new_{p}" for p in gen.ABLATIONS]
    assert dict(gen.heldout_corpora(["wide"]))["new_heldout_room"] == "heldout_new_room"


def test_table_and_concat(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("ID,duration,wav,label\nx,1.0,x.wav,yes\n")
    b.write_text("ID,duration,wav,label\ny,1.0,y.wav,no\n")
    gen.concat(str(tmp_path / "all.csv"), str(a), str(b))
    assert (tmp_path / "all.csv").read_text() == "ID,duration,wav,label\nx,1.0,x.wav,yes\ny,1.0,y.wav,no\n"
    res = tmp_path / "r.csv"
    with open(res, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["system", "test_set", "snr_db", "error_rate", "num_utts"])
        w.writerow(["baseline", "test", "clean", "4.5", "10"])
        w.writerow(["baseline", "heldout_new", "clean", "50", "10"])
    md = gen.table([f"new corpus={res}"])
    assert md.splitlines()[2] == "| new corpus | 4.50 | 50.00 |"
