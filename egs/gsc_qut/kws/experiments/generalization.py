"""The generalisation check of the synth corpus (experiments/generalization.sh).

    generalization.py configs OUT_DIR    data configs of the corpora
    generalization.py heldout CHAIN...   the held-out corpora they are scored on
    generalization.py concat OUT IN...   one manifest of several (same columns)
    generalization.py table NAME=RESULTS_CSV...  the markdown table of the scores

Voices and recording conditions are split in two: a recognizer trains on a
corpus built from one part and is scored on a corpus built from the other
part only, with other speakers (another seed). Done for the corpus as it was
(`old`: no signal chain, so the held-out part differs in voices only), with
the signal chain (`new`: voices and rooms, backgrounds and channels), and
with the signal chain at the demo's own settings (`wide`: voices held out,
the kinds of held-out conditions seen in training at lower rates), and
`wider`: `wide` with more channel and room variety (WIDER).
"""
import copy
import sys
from pathlib import Path

import yaml

from iaug.data.espeak import VARIANTS, VOICES
from iaug.data.signal_chain import EXTRA_VARIANTS

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "hparams" / "data.yaml"

# accents never heard in training; every third variant likewise
HELD_OUT_VOICES = ["en-gb-scotland", "en-029", "en-us-nyc"]
ALL_VARIANTS = list(VARIANTS) + list(EXTRA_VARIANTS)
HELD_OUT_VARIANTS = ALL_VARIANTS[2::3]

# recording conditions of the training corpus and of the held-out one: the
# held-out rooms are more reverberant, its backgrounds browner or mains hum,
# and its channels often telephone or 8 kHz, which training never saw
CONDITIONS = {
    "train": {"room": {"rt60": [0.1, 0.5]},
              "background": {"hum_p": 0.0, "exponent": [0.0, 1.2]},
              "channel": {"telephone_p": 0.0, "narrowband_p": 0.0}},
    "heldout": {"room": {"p": 0.9, "rt60": [0.5, 0.9]},
                "background": {"hum_p": 0.5, "exponent": [1.2, 2.0]},
                "channel": {"telephone_p": 0.35, "narrowband_p": 0.35}},
}
HELD_OUT_SIZE = {"speakers": 40, "utterances": 1, "noise_sources": 2, "noise_source_s": 10,
                 "test_noise_s": 30}
HELD_OUT_SEED = 4321  # other speakers than the training corpus's
# Which held-out condition costs what (new chain only): the held-out voices in
# the training conditions (`heldout_voices`), then with one stage of the
# held-out conditions each, the others as in training; and the control
# `heldout_conditions`: the training voices (other speakers) in all held-out
# conditions, which says how much of the error on `heldout` the conditions
# alone cause.
ABLATIONS = (["heldout_voices"] + [f"heldout_{stage}" for stage in CONDITIONS["heldout"]]
             + ["heldout_conditions"])
# `wider`: random band limits in 30 % of clips (no fixed band: telephone and
# 8 kHz remain two kinds among many) and rooms up to RT60 1.0 s
WIDER = {"channel": {"band_p": 0.3}, "room": {"rt60": [0.1, 1.0]}}
CHAINS = ("old", "new", "wide", "wider")


def config(chain, part, base=None):
    """The data config of corpus `chain` (one of CHAINS), `part` (train |
    heldout | one of ABLATIONS): hparams/data.yaml with its demo preset
    narrowed to that part. `wide` trains in the demo's own conditions, which
    include the held-out kinds at lower rates and narrower ranges, `wider`
    in those and WIDER; both are scored on the held-out corpora of `new`."""
    cfg = copy.deepcopy(base or yaml.safe_load(CONFIG.read_text()))
    demo = cfg["synth"]["demo"]
    demo["signal_chain"] = chain != "old"
    variants = list(VARIANTS) if chain == "old" else ALL_VARIANTS
    seen = part in ("train", "heldout_conditions")  # the training voices, else the held-out ones
    demo["voices"] = [v for v in VOICES if (v in HELD_OUT_VOICES) != seen]
    demo["variants"] = [v for v in variants if (v in HELD_OUT_VARIANTS) != seen]
    if part == "train":
        if chain in ("wide", "wider"):
            for stage, values in (WIDER if chain == "wider" else {}).items():
                cfg["signal_chain"].setdefault(stage, {}).update(values)
            return cfg
    else:  # other speakers
        demo.update(HELD_OUT_SIZE)
        cfg["seed"] = HELD_OUT_SEED
    held = CONDITIONS["heldout"]
    if part not in ("heldout", "heldout_conditions"):  # heldout_voices: none; heldout_<stage>: that stage
        held = {k: v for k, v in held.items() if part == f"heldout_{k}"}
    for stage, values in CONDITIONS["train"].items():
        cfg["signal_chain"].setdefault(stage, {}).update(held.get(stage, values))
    return cfg


def heldout_corpora(chains):
    """(corpus, test set) of every held-out corpus the `chains` are scored
    on: the corpus is <chain>_<part> in the configs, the test set its name
    in the tables (heldout_new_room for new_heldout_room)."""
    out = {}
    for chain in chains:
        own = "old" if chain == "old" else "new"
        for part in ["heldout"] + (ABLATIONS if own == "new" else []):
            out[f"{own}_{part}"] = part.replace("heldout", f"heldout_{own}", 1)
    return list(out.items())


def write_configs(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for chain in CHAINS:
        (out / f"{chain}_train.yaml").write_text(yaml.safe_dump(config(chain, "train"), sort_keys=False))
    for corpus, _ in heldout_corpora(CHAINS):
        chain, part = corpus.split("_", 1)
        (out / f"{corpus}.yaml").write_text(yaml.safe_dump(config(chain, part), sort_keys=False))


def concat(out, *manifests):
    from iaug.scoring import atomic_open
    with atomic_open(out) as f:
        for i, path in enumerate(manifests):
            lines = Path(path).read_text().splitlines(keepends=True)
            f.write("".join(lines if i == 0 else lines[1:]))


def table(named_csvs):
    """Error rates (%): one row per recognizer (NAME=RESULTS_CSV), one column
    per test set."""
    from iaug.scoring import read_results
    rows = []
    for arg in named_csvs:
        name, _, path = arg.partition("=")
        rows += [{**r, "system": name} for r in read_results(path)]
    systems = list(dict.fromkeys(r["system"] for r in rows))
    sets = list(dict.fromkeys(r["test_set"] for r in rows))
    score = {(r["system"], r["test_set"]): float(r["error_rate"]) for r in rows}
    lines = ["| recognizer | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    for s in systems:
        lines.append(f"| {s} | " + " | ".join(
            f"{score[s, t]:.2f}" if (s, t) in score else "" for t in sets) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "configs":
        write_configs(*args)
    elif cmd == "heldout":
        print("\n".join(f"{corpus} {name}" for corpus, name in heldout_corpora(args)))
    elif cmd == "concat":
        concat(*args)
    elif cmd == "table":
        print(table(args))
    else:
        sys.exit(f"generalization.py: unknown command {cmd!r} (configs | heldout | concat | table)")
