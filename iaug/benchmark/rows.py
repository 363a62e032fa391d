"""The benchmark's rows, read from the one file that defines them
(``egs/gsc_qut/kws/benchmark_rows.yaml``; its header says what a row holds),
for Python and, one line each, for the shell:

    python3 -m iaug.benchmark.rows ROWS_FILE            # the main protocol's rows
    python3 -m iaug.benchmark.rows ROWS_FILE --multi    # the multi-condition variant's
    python3 -m iaug.benchmark.rows ROWS_FILE --arms [--stage N]

A row's line is ``ROW ARM KIND ARGS...``, KIND one of ``train`` (the system
ROW from hparams/ARM.yaml), ``choose DEV OPTION CANDIDATES TAG`` (the
candidate of ARM's sweep chosen on DEV), ``set OPTION VALUE SYSTEM`` (the
sweep's candidate SYSTEM at OPTION = VALUE), ``like OPTION ROW2 PREFIX`` (ARM
at the OPTION chosen for ROW2, whose system is PREFIX<value>) or ``range``
(ARM with its noise drawn from the variant's SNR range). ``--arms``: the arms,
in the order of the run.sh stages that train them (``--stage N``: that
stage's only).
"""

import argparse
import os
import sys
from dataclasses import dataclass

import yaml

from iaug.hparams import read_yaml

KEYS = ("arm", "how", "stage", "sweep", "dev", "set", "like", "multi")
DEVS = ("clean", "clean+noisy")
MULTI = ("same", "range")


@dataclass(frozen=True)
class Row:
    name: str
    arm: str
    how: str = "-"
    stage: int | None = None
    sweep: tuple | None = None   # (option, candidates list, tag) of an arm swept on dev
    dev: str | None = None
    set: tuple | None = None     # (option, value)
    like: tuple | None = None    # (option, row)
    multi: str | None = None


def _value(text):
    """A setting as the shell and a system's name write it (-12.5, 50)."""
    return f"{text:g}" if isinstance(text, float) else str(text)


def read_rows(path):
    """[Row] of a rows file, in its order; anything it cannot mean is one line
    naming the file and the row."""
    if not os.path.isfile(path):
        sys.exit(f"{path}: no such rows file")
    with open(path, encoding="utf-8") as f:
        table = read_yaml(f, path, yaml.safe_load)
    if not isinstance(table, dict) or not table:
        sys.exit(f"{path}: not a mapping of rows")

    def bad(name, why):
        sys.exit(f"{path}: row {name}: {why}")

    rows = []
    for name, entry in table.items():
        entry = entry or {}
        if not isinstance(entry, dict):
            bad(name, "is not a mapping")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            bad(name, f"unknown key {unknown[0]} (keys: {', '.join(KEYS)})")
        if sum(k in entry for k in ("dev", "set", "like")) > 1:
            bad(name, "one of dev, set and like at most")
        for key in ("set", "like"):
            if key in entry and not (isinstance(entry[key], dict) and len(entry[key]) == 1):
                bad(name, f"{key} is {{option: value}}")
        sweep = entry.get("sweep")
        if sweep is not None and not (isinstance(sweep, list) and len(sweep) == 3):
            bad(name, "sweep is [option, candidates, tag]")
        row = Row(name=str(name), arm=str(entry.get("arm", name)), how=str(entry.get("how", "-")),
                  stage=entry.get("stage"), sweep=tuple(sweep) if sweep else None, dev=entry.get("dev"),
                  set=tuple(next(iter(entry["set"].items()))) if "set" in entry else None,
                  like=tuple(next(iter(entry["like"].items()))) if "like" in entry else None,
                  multi=entry.get("multi"))
        if (row.stage is not None or row.sweep) and row.arm != row.name:
            bad(name, f"stage and sweep belong on the row named after its arm ({row.arm})")
        if row.arm == row.name and not isinstance(row.stage, int):
            bad(name, "stage is the run.sh stage (a number) that trains the arm")
        if row.dev is not None and row.dev not in DEVS:
            bad(name, f"dev is {' or '.join(DEVS)} (got {row.dev})")
        if row.multi is not None and row.multi not in MULTI:
            bad(name, f"multi is {' or '.join(MULTI)} (got {row.multi})")
        hparams = os.path.join(os.path.dirname(os.path.abspath(path)), "hparams", f"{row.arm}.yaml")
        if not os.path.isfile(hparams):
            bad(name, f"no arm file {hparams}")
        rows.append(row)
    by_name = {r.name: r for r in rows}
    if "baseline" not in by_name:
        sys.exit(f"{path}: no row baseline (every other system starts from it)")
    for r in rows:
        arm = by_name.get(r.arm)
        if arm is None or arm.arm != arm.name:
            bad(r.name, f"arm {r.arm} has no row of its own (its stage and sweep)")
        if (r.dev or r.set) and not arm.sweep:
            bad(r.name, f"dev and set need a sweep of arm {r.arm}")
        if r.set and r.set[0] != arm.sweep[0]:
            bad(r.name, f"set names {r.set[0]}, the sweep of {r.arm} is over {arm.sweep[0]}")
        if r.like:
            other = by_name.get(str(r.like[1]))
            if other is None or not other.dev or by_name[other.arm].sweep[0] != r.like[0]:
                bad(r.name, f"like: {r.like[1]} is no row chosen on dev over {r.like[0]}")
    return rows


def sweep_of(rows, row):
    """(option, candidates, tag) of ``row``'s arm."""
    return next(r.sweep for r in rows if r.name == row.arm)


def variant_rows(rows, snr_range=None):
    """[(row, how its system is chosen)] of the main protocol, or of the
    multi-condition variant with its SNR range [low, high]."""
    if snr_range is None:
        return [(r.name, r.how) for r in rows]
    how = f"SNR per utterance from {snr_range[0]:g} to {snr_range[1]:g} dB"
    return [(r.name, how if r.multi == "range" else r.how) for r in rows if r.multi]


def dev_chosen(rows):
    """The arms with rows chosen on dev, in the rows' order."""
    return list(dict.fromkeys(r.arm for r in rows if r.dev))


def shell_line(rows, row, multi=False):
    if multi:
        return f"{row.name} {row.arm} {'range' if row.multi == 'range' else 'train'}"
    if row.dev:
        return f"{row.name} {row.arm} choose {row.dev} {' '.join(sweep_of(rows, row))}"
    if row.set:
        option, value = row.set
        return f"{row.name} {row.arm} set {option} {_value(value)} {row.arm}_{sweep_of(rows, row)[2]}{_value(value)}"
    if row.like:
        option, other = row.like
        chosen = next(r for r in rows if r.name == other)
        return f"{row.name} {row.arm} like {option} {other} {chosen.arm}_{sweep_of(rows, chosen)[2]}"
    return f"{row.name} {row.arm} train"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows_file")
    ap.add_argument("--multi", action="store_true", help="the multi-condition variant's rows")
    ap.add_argument("--arms", action="store_true", help="the arms, in the order of their run.sh stages")
    ap.add_argument("--stage", type=int, help="with --arms: the arms of this run.sh stage only")
    args = ap.parse_args(argv)
    rows = read_rows(args.rows_file)
    if args.arms:
        arms = sorted((r for r in rows if r.arm == r.name), key=lambda r: r.stage)
        print("\n".join(r.name for r in arms if args.stage in (None, r.stage)))
    else:
        print("\n".join(shell_line(rows, r, args.multi) for r in rows if r.multi or not args.multi))


if __name__ == "__main__":
    main()
