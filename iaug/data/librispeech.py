"""LibriSpeech-layout corpora for the speech-recognition recipe.

* The real LibriSpeech (``LibriSpeech/<subset>/<speaker>/<chapter>/*.flac`` with
  ``<speaker>-<chapter>.trans.txt``), downloaded by ``iaug.data.download``.
* An offline stand-in in the same layout: sentences of a small grammar
  (commands, numbers, colours, rooms, names) read by espeak-ng voice profiles,
  one profile a speaker, each with its own noise floor (about 70 dB below full
  scale, as a real recording has). Train, dev and test speakers are disjoint.
  With a `signal_chain` (`iaug.data.signal_chain`, as the keyword corpus):
  wider speaker ranges, a vocal-tract warp, room, background, channel and
  level stages; off, the former bytes.

Also the layout's noisy test copies and SpeechBrain manifests
``ID,duration,wav,spk_id,wrd``; noise clips, mixing and file checks are the
generic ones of both recipes.
"""
import multiprocessing as mp
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from iaug.data import signal_chain as sc
from iaug.data.audio import SAMPLE_RATE
from iaug.data.espeak import Speaker, draw_profile, render, vary_take
from iaug.data.manifest import DataError, check_files, noise_rows, report_bad, write_manifests
from iaug.data.noisy_sets import make_noisy_sets
from iaug.data.synth_noise import noise_floor

# ---------------------------------------------------------------- grammar
NUMBERS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT",
           "NINE", "TEN", "ELEVEN", "TWELVE", "TWENTY", "THIRTY", "FIFTY", "HUNDRED")
DIGITS = NUMBERS[:10]
COLOURS = ("RED", "GREEN", "BLUE", "YELLOW", "BLACK", "WHITE", "ORANGE", "PURPLE", "BROWN", "GREY")
OBJECTS = {"BOX": "BOXES", "DOOR": "DOORS", "CHAIR": "CHAIRS", "TABLE": "TABLES",
           "WINDOW": "WINDOWS", "BALL": "BALLS", "LAMP": "LAMPS", "BOOK": "BOOKS",
           "CUP": "CUPS", "BOTTLE": "BOTTLES", "KNIFE": "KNIVES", "SHOE": "SHOES"}
VERBS = ("OPEN", "CLOSE", "MOVE", "LIFT", "PAINT", "FIND", "CLEAN", "BRING", "DROP", "SHOW")
DEVICES = ("TIMER", "ALARM", "HEATER", "RADIO", "OVEN", "VOLUME")
UNITS = ("MINUTES", "SECONDS", "HOURS", "DEGREES", "PERCENT")
ROOMS = ("KITCHEN", "GARDEN", "OFFICE", "BEDROOM", "HALLWAY", "GARAGE", "BATHROOM")
PLACES = ("ON THE TABLE", "UNDER THE BED", "NEAR THE DOOR", "IN THE BOX", "BEHIND THE CHAIR")
NAMES = ("ANNA", "PETER", "MARIA", "DAVID", "SOPHIE", "THOMAS", "LAURA", "JAMES", "OSCAR", "EMMA")
DIRECTIONS = ("LEFT", "RIGHT", "NORTH", "SOUTH", "FORWARD", "BACK", "UP", "DOWN")
DISTANCES = ("METERS", "MILES", "STEPS")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


def _count(rng):
    n = int(rng.integers(2, 13))
    return NUMBERS[n] if n <= 12 else "TWELVE"


TEMPLATES = (
    lambda r: f"{_pick(r, VERBS)} THE {_pick(r, COLOURS)} {_pick(r, list(OBJECTS))}",
    lambda r: f"SET THE {_pick(r, DEVICES)} TO {_pick(r, NUMBERS[1:])} {_pick(r, UNITS)}",
    lambda r: f"TURN {_pick(r, ('ON', 'OFF'))} THE {_pick(r, ROOMS)} LIGHTS",
    lambda r: (lambda obj: f"PUT {_count(r)} {_pick(r, COLOURS)} {OBJECTS[obj]} {_pick(r, PLACES)}")(
        _pick(r, list(OBJECTS))),
    lambda r: "CALL " + _pick(r, NAMES) + " AT " + " ".join(_pick(r, DIGITS) for _ in range(4)),
    lambda r: f"GO {_pick(r, DIRECTIONS)} FOR {_pick(r, NUMBERS[1:])} {_pick(r, DISTANCES)}",
    lambda r: f"MEET {_pick(r, NAMES)} IN THE {_pick(r, ROOMS)} ON {_pick(r, DAYS)}",
    lambda r: f"THE {_pick(r, list(OBJECTS))} IS {_pick(r, COLOURS)} AND {_pick(r, COLOURS)}",
)


def grammar_sentence(rng):
    """One sentence of the grammar (upper case, LibriSpeech style)."""
    return TEMPLATES[int(rng.integers(len(TEMPLATES)))](rng)


def grammar_vocabulary():
    """Every word the grammar can produce."""
    words = set(NUMBERS + COLOURS + VERBS + DEVICES + UNITS + ROOMS + NAMES + DIRECTIONS
                + DISTANCES + DAYS + tuple(OBJECTS) + tuple(OBJECTS.values()))
    words |= {w for p in PLACES for w in p.split()}
    words |= set("SET THE TO TURN ON OFF LIGHTS PUT CALL AT GO FOR MEET IN IS AND".split())
    return sorted(words)


# ---------------------------------------------------------------- speakers
CHAIN_KEY = 0x5C  # in the seeds of the signal chain's generators


def make_speaker(spk_id, seed, chain=None):
    """The voice profile that *is* speaker ``spk_id`` (same seed, same voice).
    ``chain``: ``signal_chain.settings(...)`` (None: off)."""
    rng = np.random.default_rng([seed, 7919, spk_id])
    profile = draw_profile(rng, sc.wider_profile_ranges(chain))
    chapter = 100 + int(rng.integers(900))
    alpha = 1.0
    if chain is not None:
        alpha = sc.draw_alpha(np.random.default_rng([seed, 7919, spk_id, CHAIN_KEY]), chain)
    return Speaker(spk_id, profile, float(rng.uniform(-76, -64)), chapter, alpha)


def speaker_ids(split_sizes, seed):
    """{split: [speaker ids]}, disjoint, LibriSpeech-like numbers."""
    rng = np.random.default_rng([seed, 104729])
    total = sum(split_sizes.values())
    ids = [int(i) for i in rng.choice(np.arange(100, 10000), size=total, replace=False)]
    out, k = {}, 0
    for split, n in split_sizes.items():
        out[split] = sorted(ids[k:k + n])
        k += n
    return out


def render_utterance(speaker, text, utt, seed, chain=None):
    """One reading of ``text``: the speaker's voice with small per-take
    variation, 0.1-0.4 s of room before and after, and the noise floor (and
    the signal chain's warp, room, background, channel and level)."""
    rng = np.random.default_rng([seed, speaker.id, utt])
    take = vary_take(speaker.profile, rng)
    take = replace(take, gain_db=float(min(take.gain_db + rng.uniform(-2, 2), -1.0)))
    speech = render(text.lower(), take)
    crng = np.random.default_rng([seed, speaker.id, utt, CHAIN_KEY]) if chain is not None else None
    if chain is not None and speaker.alpha != 1.0:
        j = chain["speakers"]["vtlp_jitter"]
        speech = sc.vtlp(speech, speaker.alpha * (1 + crng.uniform(-j, j)))
    lead, tail = (int(SAMPLE_RATE * s) for s in rng.uniform(0.1, 0.4, size=2))
    x = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
    floor_db = speaker.floor_db + rng.uniform(-2, 2)
    if chain is None:
        return x + noise_floor(len(x), rng, floor_db)
    return sc.chain(x, crng, chain, floor_db=floor_db, seed=seed)


def _speaker_job(args):
    root, spk_id, n_utts, seed, chain = args
    speaker = make_speaker(spk_id, seed, chain)
    folder = Path(root) / str(spk_id) / str(speaker.chapter)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for utt in range(n_utts):
        text = grammar_sentence(np.random.default_rng([seed, 15485863, spk_id, utt]))
        uid = f"{spk_id}-{speaker.chapter}-{utt:04d}"
        sf.write(str(folder / f"{uid}.flac"), render_utterance(speaker, text, utt, seed, chain), SAMPLE_RATE,
                 format="FLAC", subtype="PCM_16")
        lines.append(f"{uid} {text}\n")
    (folder / f"{spk_id}-{speaker.chapter}.trans.txt").write_text("".join(lines))
    return n_utts


def build_synth_corpus(root, splits, seed, nj=1, log=print, signal_chain=None):
    """Write ``root/<subset>/<speaker>/<chapter>/*.flac`` + ``*.trans.txt``.

    ``splits``: {subset name: (number of speakers, utterances per speaker)};
    ``signal_chain``: the ``signal_chain:`` mapping of hparams/data.yaml
    (None: off). Returns {subset: number of utterances}.
    """
    chain = sc.settings(signal_chain)
    root = Path(root)
    ids = speaker_ids({name: n for name, (n, _) in splits.items()}, seed)
    if chain:  # simulated here once: the forked workers inherit the bank
        start = time.monotonic()
        rooms = sc.room_bank(chain["room"], seed)
        if chain["background"]["bank_p"] > 0:
            sc.background_bank(chain["background"], seed)
        log(f"synth corpus: {len(rooms)} rooms simulated in {time.monotonic() - start:.0f} s")
    counts = {}
    for name, (_, utts) in splits.items():
        subset = root / name
        if subset.exists():
            shutil.rmtree(subset)  # half-built or another preset: rebuilt whole
        subset.mkdir(parents=True)
        jobs = [(str(subset), spk, utts, seed, chain) for spk in ids[name]]
        with mp.get_context("fork").Pool(max(1, nj)) as pool:
            counts[name] = sum(pool.map(_speaker_job, jobs))
        log(f"synth {name}: {len(jobs)} speakers, {counts[name]} utterances")
    return counts


# ---------------------------------------------------------------- layout
def read_transcripts(subset_dir):
    """{utterance id: (flac path, speaker id, words)} of one subset folder."""
    items = {}
    for trans in sorted(Path(subset_dir).glob("*/*/*.trans.txt")):
        for line in trans.read_text().splitlines():
            if not line.strip():
                continue
            uid, _, words = line.strip().partition(" ")
            items[uid] = (str((trans.parent / f"{uid}.flac").resolve()), uid.split("-")[0], words)
    return items


# What a LibriSpeech transcript is written in (its tokenizer's alphabet).
ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ' ")


def transcript_problem(words):
    """Why a transcript cannot be a training or test reference, or None."""
    if not words.strip():
        return "empty transcript"
    outside = sorted(set(words) - ALPHABET)
    if outside:
        return f"transcript has characters outside A-Z, ' and space: {''.join(outside)!r}"
    return None


def build_manifests(data_dir, roles, noisy_sets, on_bad="fail", nj=1, log=print):
    """Manifests of the corpus under ``data_dir/LibriSpeech``.

    ``roles``: {manifest name: [subset names]} (e.g. train, dev, test-clean);
    ``noisy_sets``: {manifest name: (folder of a noisy copy, its clean subset)}.
    Noise manifests ``noise_{train,dev}`` (``ID,duration,wav``) list
    ``data_dir/noise/{train,dev}``. Every audio file is read once and every
    transcript checked (:func:`transcript_problem`); bad ones fail the step
    (or are skipped), listed with the reason.
    """
    data_dir = Path(data_dir)
    sets = {}
    for name, subsets in roles.items():
        items = {}
        for subset in subsets:
            folder = data_dir / "LibriSpeech" / subset
            if not folder.is_dir():
                raise DataError(f"subset {subset} missing: {folder} (run stage 0)")
            items.update(read_transcripts(folder))
        if not items:
            raise DataError(f"no transcribed utterances in {', '.join(subsets)}")
        sets[name] = (["spk_id", "wrd"], [(uid, *item) for uid, item in sorted(items.items())])
    for name, (folder, subset) in noisy_sets.items():
        clean = data_dir / "LibriSpeech" / subset
        sets[name] = (["spk_id", "wrd"], [(uid, str(Path(folder, rel_wav(wav, clean)).resolve()), spk, wrd)
                                          for uid, (wav, spk, wrd) in sorted(read_transcripts(clean).items())])
    for split in ("train", "dev"):
        sets[f"noise_{split}"] = ([], noise_rows(data_dir, split))
    checked = check_files([row[1] for _, rows in sets.values() for row in rows], nj)
    bad = {p: why for p, (why, _) in checked.items() if why}
    for _, rows in sets.values():  # a transcript the tokenizer cannot spell, or none
        for uid, wav, *extra in rows:
            why = transcript_problem(extra[1]) if extra else None
            if why and wav not in bad:
                bad[wav] = f"{uid}: {why}"
    report_bad(data_dir / "manifests", bad, on_bad, log)
    return write_manifests(data_dir / "manifests", sets, checked, bad, 3)


def rel_wav(wav, clean_root):
    """Path of a noisy copy relative to its set folder: the clean relative
    path with a .wav suffix (mixtures are 32-bit float WAV)."""
    return Path(wav).resolve().relative_to(Path(clean_root).resolve()).with_suffix(".wav")


def make_noisy_copies(clean_root, noise, out_root, name, snrs, seed, nj=1):
    """``out_root/<name>_snr<snr>/<rel>.wav`` for every ``*.flac`` under
    ``clean_root`` (:func:`iaug.data.noisy_sets.make_noisy_sets`, as for
    keyword spotting). Returns the number of files."""
    rels = sorted(p.relative_to(clean_root).as_posix() for p in Path(clean_root).rglob("*.flac"))
    if not rels:
        raise DataError(f"no .flac files under {clean_root}")
    make_noisy_sets(clean_root, rels, noise, out_root, name, snrs, seed, nj)
    return len(rels)
