"""LibriSpeech-layout corpora for the speech-recognition recipe.

* The real LibriSpeech (``LibriSpeech/<subset>/<speaker>/<chapter>/*.flac`` with
  ``<speaker>-<chapter>.trans.txt``), downloaded by ``iaug.data.download``.
* An offline stand-in in the same layout: sentences of a small grammar
  (commands, numbers, colours, rooms, names) read by espeak-ng voice profiles,
  one profile a speaker, each with its own noise floor (about 70 dB below full
  scale, as a real recording has). Train, dev and test speakers are disjoint.

Also: training-noise clips of any length, noisy copies of a test set
at fixed SNRs (the keyword-spotting mixing code), and SpeechBrain manifests
``ID,duration,wav,spk_id,wrd``.
"""
import csv
import multiprocessing as mp
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from iaug.data.audio import read_mono, resample, write_wav
from iaug.data.espeak import VARIANTS, VOICES, VoiceProfile, render
from iaug.data.manifest import DataError, check_files
from iaug.data.noise import noise_floor
from iaug.data.noisy_sets import mix_at_snr, noise_stretch, snr_tag

SR = 16000

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
@dataclass(frozen=True)
class Speaker:
    id: int
    chapter: int
    profile: VoiceProfile
    floor_db: float  # the speaker's "microphone" noise floor, dB re full scale (RMS)


def make_speaker(spk_id, seed):
    """The voice profile that *is* speaker ``spk_id`` (same seed, same voice)."""
    rng = np.random.default_rng([seed, 7919, spk_id])
    profile = VoiceProfile(
        voice=VOICES[rng.integers(len(VOICES))],
        variant=VARIANTS[rng.integers(len(VARIANTS))],
        pitch=int(rng.integers(25, 76)),
        pitch_range=int(rng.integers(60, 161)),
        rate=int(rng.integers(140, 201)),
        gain_db=float(rng.uniform(-20, -3)))
    return Speaker(spk_id, 100 + int(rng.integers(900)), profile, float(rng.uniform(-76, -64)))


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


def render_utterance(speaker, text, utt, seed):
    """One reading of ``text``: the speaker's voice with small per-take
    variation, 0.1-0.4 s of room before and after, and the noise floor."""
    rng = np.random.default_rng([seed, speaker.id, utt])
    p = speaker.profile
    take = replace(
        p,
        pitch=int(np.clip(p.pitch + rng.integers(-4, 5), 0, 99)),
        pitch_range=int(np.clip(p.pitch_range + rng.integers(-10, 11), 20, 200)),
        rate=int(np.clip(p.rate + rng.integers(-12, 13), 120, 230)),
        gain_db=float(min(p.gain_db + rng.uniform(-2, 2), -1.0)))
    speech = render(text.lower(), take, sr=SR)
    lead, tail = (int(SR * s) for s in rng.uniform(0.1, 0.4, size=2))
    x = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
    return x + noise_floor(len(x), rng, speaker.floor_db + rng.uniform(-2, 2))


def _speaker_job(args):
    root, spk_id, n_utts, seed = args
    speaker = make_speaker(spk_id, seed)
    folder = Path(root) / str(spk_id) / str(speaker.chapter)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for utt in range(n_utts):
        text = grammar_sentence(np.random.default_rng([seed, 15485863, spk_id, utt]))
        uid = f"{spk_id}-{speaker.chapter}-{utt:04d}"
        sf.write(str(folder / f"{uid}.flac"), render_utterance(speaker, text, utt, seed), SR,
                 format="FLAC", subtype="PCM_16")
        lines.append(f"{uid} {text}\n")
    (folder / f"{spk_id}-{speaker.chapter}.trans.txt").write_text("".join(lines))
    return n_utts


def build_synth_corpus(root, splits, seed, nj=1, log=print):
    """Write ``root/<subset>/<speaker>/<chapter>/*.flac`` + ``*.trans.txt``.

    ``splits``: {subset name: (number of speakers, utterances per speaker)}.
    Returns {subset: number of utterances}.
    """
    root = Path(root)
    ids = speaker_ids({name: n for name, (n, _) in splits.items()}, seed)
    counts = {}
    for name, (_, utts) in splits.items():
        subset = root / name
        if subset.exists():
            shutil.rmtree(subset)  # half-built or another preset: rebuilt whole
        subset.mkdir(parents=True)
        jobs = [(str(subset), spk, utts, seed) for spk in ids[name]]
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


def write_asr_manifest(path, rows):
    """rows: (id, duration, wav, spk_id, wrd)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ID", "duration", "wav", "spk_id", "wrd"])
        w.writerows(rows)
    tmp.replace(path)


def build_manifests(data_dir, roles, noisy_sets, on_bad="fail", nj=1, log=print):
    """Manifests of the corpus under ``data_dir/LibriSpeech``.

    ``roles``: {manifest name: [subset names]} (e.g. train, dev, test-clean);
    ``noisy_sets``: {manifest name: (folder of a noisy copy, its clean subset)}.
    Noise manifests ``noise_{train,dev}`` list ``data_dir/noise/{train,dev}``.
    Every audio file is read once; bad ones fail the step (or are skipped).
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
        sets[name] = [(uid, wav, spk, wrd) for uid, (wav, spk, wrd) in sorted(items.items())]
    for name, (folder, subset) in noisy_sets.items():
        clean = data_dir / "LibriSpeech" / subset
        sets[name] = [(uid, str(Path(folder, rel_wav(wav, clean)).resolve()), spk, wrd)
                      for uid, (wav, spk, wrd) in sorted(read_transcripts(clean).items())]
    for split in ("train", "dev"):
        sets[f"noise_{split}"] = [(p.stem, str(p.resolve()), None, None)
                                  for p in sorted((data_dir / "noise" / split).glob("*.wav"))]
    checked = check_files([row[1] for rows in sets.values() for row in rows], nj)
    bad = {p: why for p, (why, _) in checked.items() if why}
    out_dir = data_dir / "manifests"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "bad_files.txt"
    report.write_text("".join(f"{p}: {why}\n" for p, why in sorted(bad.items())))
    if bad and on_bad == "fail":
        shown = "; ".join(f"{p}: {why}" for p, why in sorted(bad.items())[:5])
        raise DataError(f"{len(bad)} bad audio files: {shown}; all listed in {report}; "
                        f"fix them or rerun with --on_bad skip")
    counts = {}
    for name, rows in sets.items():
        kept = [(uid, f"{checked[wav][1]:.3f}", wav, spk, wrd)
                for uid, wav, spk, wrd in rows if wav not in bad]
        if name.startswith("noise_"):
            with open(out_dir / f"{name}.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["ID", "duration", "wav"])
                w.writerows(r[:3] for r in kept)
        else:
            write_asr_manifest(out_dir / f"{name}.csv", kept)
        counts[name] = len(kept)
    if bad:
        log(f"skipped {len(bad)} bad audio files, listed in {report}")
    return counts


def rel_wav(wav, clean_root):
    """Path of a noisy copy relative to its set folder: the clean relative
    path with a .wav suffix (mixtures are 32-bit float WAV)."""
    return Path(wav).resolve().relative_to(Path(clean_root).resolve()).with_suffix(".wav")


# ---------------------------------------------------------------- noise
def cut_noise(sources, out_dir, clip_s, dev_fraction, seed, min_rms=1e-4, log=print):
    """``out_dir/{train,dev}/*.wav``: non-overlapping ``clip_s`` second clips
    of the source recordings; split by source file and noise folder (as the
    keyword recipe does), near-silent clips dropped. Returns {split: count}."""
    from iaug.data.musan import split_sources
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    n = int(round(clip_s * SR))
    counts = {}
    for split, files in split_sources(sources, dev_fraction, seed).items():
        (out_dir / split).mkdir(parents=True)
        counts[split] = 0
        for src in files:
            x, sr = read_mono(src)
            x = resample(x, sr, SR)
            for i in range(len(x) // n):
                clip = x[i * n:(i + 1) * n]
                if np.sqrt(np.mean(clip.astype(np.float64) ** 2)) >= min_rms:
                    write_wav(out_dir / split / f"{src.parent.name}-{src.stem}-{i:04d}.wav", clip, SR)
                    counts[split] += 1
        log(f"noise clips {split}: {counts[split]} of {clip_s:g} s from {len(files)} files")
        if counts[split] == 0:
            raise DataError(f"no {split} noise clip of {clip_s:g} s: the noise sources are too short")
    return counts


_NOISE = None


def _noisy_job(args):
    clean_root, out_root, name, rels, snrs, seed = args
    for rel in rels:
        clean, sr = read_mono(Path(clean_root) / rel)
        seg = noise_stretch(_NOISE, len(clean), seed, rel)
        for snr in snrs:
            out = Path(out_root) / f"{name}_{snr_tag(snr)}" / Path(rel).with_suffix(".wav")
            out.parent.mkdir(parents=True, exist_ok=True)
            write_wav(out, mix_at_snr(clean, seg, snr) if np.any(clean) else clean, sr, fmt="float")
    return len(rels)


def make_noisy_copies(clean_root, noise, out_root, name, snrs, seed, nj=1, chunk=100):
    """``out_root/<name>_snr<snr>/<rel>.wav`` for every ``*.flac`` under
    ``clean_root``: the same seeded noise stretch per file
    (:func:`iaug.data.noisy_sets.noise_stretch`) scaled by mean power to each
    SNR (:func:`iaug.data.noisy_sets.mix_at_snr`), as for keyword spotting."""
    global _NOISE
    rels = sorted(p.relative_to(clean_root).as_posix() for p in Path(clean_root).rglob("*.flac"))
    if not rels:
        raise DataError(f"no .flac files under {clean_root}")
    for snr in snrs:
        d = Path(out_root) / f"{name}_{snr_tag(snr)}"
        if d.exists():
            shutil.rmtree(d)
    _NOISE = np.asarray(noise, dtype=np.float32)
    jobs = [(str(clean_root), str(out_root), name, rels[i:i + chunk], list(snrs), seed)
            for i in range(0, len(rels), chunk)]
    try:
        with mp.get_context("fork").Pool(max(1, nj)) as pool:
            return sum(pool.map(_noisy_job, jobs))
    finally:
        _NOISE = None


