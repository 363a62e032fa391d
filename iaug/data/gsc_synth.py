"""The keyword recipe's offline corpus: Speech Commands v0.02's exact layout,
spoken by espeak-ng.

A speaker is a reproducible voice profile derived from (seed, speaker id).
Speaker ids are 8 hex digits like GSC's; they are drawn deterministically
and kept only while their split (given by GSC's own hash rule) still needs
speakers, so every preset has exactly 10 % dev and 10 % test speakers and
every word is in every split.

With a `signal_chain` (`iaug.data.signal_chain`), speakers are drawn from
wider ranges and get a vocal-tract warp, and every placed clip goes through
room, background, channel and level stages (and is sometimes shorter than
1 s, zero-padded). Chain draws come from their own seeded generators, so the
chain off gives the former bytes.
"""
import hashlib
import multiprocessing as mp
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from iaug.data import signal_chain as sc
from iaug.data.audio import SAMPLE_RATE, write_wav
from iaug.data.espeak import Speaker, draw_profile, place, render_words, vary_take, voice_pool
from iaug.data.gsc import BACKGROUND, GSC_LABELS, which_set
from iaug.data.synth_noise import TRAIN_TYPES, fit_16bit, make_noise, noise_floor

CLIP = SAMPLE_RATE  # exactly one second
CHAIN_KEY = 0x5C   # in the seeds of the signal chain's generators


def choose_speaker_ids(n, seed, validation_percentage=10, testing_percentage=10):
    """`n` deterministic 8-hex ids whose hash split gives exact quotas."""
    quota = {"validation": max(1, round(n * validation_percentage / 100)),
             "testing": max(1, round(n * testing_percentage / 100))}
    quota["training"] = n - quota["validation"] - quota["testing"]
    if quota["training"] < 1:
        raise ValueError(f"need at least 3 speakers, got {n}")
    ids, k = [], 0
    while len(ids) < n:
        sid = hashlib.sha1(f"iaug-synth:{seed}:{k}".encode()).hexdigest()[:8]
        split = which_set(f"{sid}_nohash_0.wav", validation_percentage, testing_percentage)
        if quota[split] > 0:
            quota[split] -= 1
            ids.append(sid)
        k += 1
    return ids


def make_speaker(sid, seed, chain=None, pool=None):
    """The voice profile that *is* speaker `sid`: same seed, same voice.
    `chain`: `signal_chain.settings(...)` (None: off); `pool`: {voices,
    variants} narrowing espeak-ng's (`iaug.data.espeak.voice_pool`)."""
    rng = np.random.default_rng([seed, int(sid, 16)])
    profile = draw_profile(rng, sc.wider_profile_ranges(chain), **(pool or {}))
    profile = replace(profile, position=float(rng.uniform(0.2, 0.8)))
    alpha = 1.0
    if chain is not None:
        alpha = sc.draw_alpha(np.random.default_rng([seed, int(sid, 16), CHAIN_KEY]), chain)
    return Speaker(sid, profile, float(rng.uniform(-76, -64)), alpha=alpha)


def finish_clip(speech, speaker, word, utt, seed, chain=None):
    """Level, placement in the second and noise floor of one clip (and the
    signal chain's room, background, channel, level and padding)."""
    rng = np.random.default_rng([seed, int(speaker.id, 16), GSC_LABELS.index(word), utt])
    p = speaker.profile
    gain_db = min(p.gain_db + rng.uniform(-2, 2), -1.0)  # speech comes at p.gain_db peak
    x = place(speech * np.float32(10 ** ((gain_db - p.gain_db) / 20)), CLIP,
              float(np.clip(p.position + rng.normal(0, 0.12), 0, 1)))
    floor_db = speaker.floor_db + rng.uniform(-2, 2)
    if chain is None:
        return x + noise_floor(CLIP, rng, floor_db)
    crng = np.random.default_rng([seed, int(speaker.id, 16), GSC_LABELS.index(word), utt, CHAIN_KEY])
    return sc.chain(x, crng, chain, floor_db=floor_db, pad=True, seed=seed)


def take_alpha(speaker, utt, seed, chain):
    """The speaker's vocal-tract warp on recording `utt` (a little jitter)."""
    if chain is None or speaker.alpha == 1.0:
        return 1.0
    j = chain["speakers"]["vtlp_jitter"]
    rng = np.random.default_rng([seed, int(speaker.id, 16), utt, CHAIN_KEY])
    return speaker.alpha * (1 + rng.uniform(-j, j))


def speaker_clips(speaker, utts, seed, chain=None):
    """{(word, utt): 1 s float32 clip} for every word and utterance."""
    clips = {}
    for utt in range(utts):
        take = vary_take(speaker.profile, np.random.default_rng([seed, int(speaker.id, 16), utt]))
        words = render_words(GSC_LABELS, take)
        alpha = take_alpha(speaker, utt, seed, chain)
        for word, speech in zip(GSC_LABELS, words):
            if alpha != 1.0:
                speech = sc.vtlp(speech, alpha)
            clips[word, utt] = finish_clip(speech, speaker, word, utt, seed, chain)
    return clips


def _speaker_job(args):
    root, sid, utts, seed, chain, pool = args
    names = []
    for (word, utt), x in speaker_clips(make_speaker(sid, seed, chain, pool), utts, seed, chain).items():
        name = f"{word}/{sid}_nohash_{utt}.wav"
        write_wav(Path(root) / name, x)
        names.append(name)
    return names


def build_corpus(root, speakers, utts, seed, background_s=60, nj=1, log=print, signal_chain=None,
                 voices=None, variants=None):
    """Write the synthetic corpus to `root` in GSC v0.02 layout; returns #clips.
    `signal_chain`: the `signal_chain:` mapping of hparams/data.yaml (None: off);
    `voices`, `variants`: only these espeak-ng accents and variants (None: all)."""
    chain = sc.settings(signal_chain)
    pool = {"voices": voices, "variants": variants}
    # a misspelt voice is named now, not in a worker after minutes of synthesis
    voice_pool(voices, variants, sc.wider_profile_ranges(chain)["extra_variants"] if chain else ())
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)  # a half-built or other-preset corpus is rebuilt whole
    for word in GSC_LABELS + (BACKGROUND,):
        (root / word).mkdir(parents=True)
    ids = choose_speaker_ids(speakers, seed)
    jobs = [(str(root), sid, utts, seed, chain, pool) for sid in ids]
    if chain:  # simulated here once: the forked workers inherit the bank
        start = time.monotonic()
        rooms = sc.room_bank(chain["room"], seed)
        if chain["background"]["bank_p"] > 0:
            sc.background_bank(chain["background"], seed)
        log(f"synth corpus: {len(rooms)} rooms simulated in {time.monotonic() - start:.0f} s")
    names = []
    with mp.get_context("fork").Pool(max(1, nj)) as pool:
        for i, done in enumerate(pool.imap_unordered(_speaker_job, jobs), 1):
            names += done
            if i % max(1, len(jobs) // 10) == 0:
                log(f"synth corpus: {i}/{len(jobs)} speakers")
    names.sort()
    split = {"validation": [], "testing": []}
    for name in names:
        s = which_set(name)
        if s in split:
            split[s].append(name)
    for s, lst in split.items():
        (root / f"{s}_list.txt").write_text("".join(f"{n}\n" for n in lst))
    # long train-type noises, as GSC ships white/pink noise and recordings here
    for i, kind in enumerate(TRAIN_TYPES):
        x = make_noise(kind, int(background_s * SAMPLE_RATE), [seed, 1000 + i])
        write_wav(root / BACKGROUND / f"{kind}_noise.wav", fit_16bit(x))
    (root / "README.md").write_text(
        "Synthetic Speech Commands (iaug): GSC v0.02 layout, spoken by espeak-ng.\n"
        f"seed={seed} speakers={speakers} utterances_per_word={utts} clips={len(names)}\n"
        + (f"signal chain v{sc.VERSION}: {chain}\n" if chain else ""))
    return len(names)

