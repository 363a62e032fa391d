#!/usr/bin/env python3
"""Data preparation of the speech-recognition recipe (run.sh stages 0 and 1).

  prepare_data.py download  --corpus synth|librispeech --preset tiny|demo|full
                            --data_dir DIR [--archive_dir DIR] [--nj N]
  prepare_data.py manifests --corpus synth|librispeech --preset tiny|demo|full
                            --data_dir DIR [--on_bad fail|skip] [--nj N]
                            [--vocab_size V] [--token_type unigram|bpe|char]

Layout under DIR (both corpora):
  LibriSpeech/<subset>/<speaker>/<chapter>/*.flac, *.trans.txt
  noise_sources/            long training (and, synth, test) noise recordings
  noise/{train,dev}/*.wav   training-noise clips (noise_clip_s seconds)
  noisy_test/qut_snr<snr>/<speaker>/<chapter>/*.wav
                            the clean test set plus test noise at each SNR
  manifests/{train,dev,test[,test_other]}.csv, manifests/noisy/qut_snr<snr>.csv,
  manifests/noise_{train,dev}.csv         (ID,duration,wav,spk_id,wrd)
  tokenizer/<V>_<type>.model               sentencepiece, trained on train.csv
  .done_<step>              finished steps (with their settings): reruns skip them
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

try:
    import iaug  # noqa: F401
except ImportError:  # run from a clone without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

import yaml

from iaug.data import download as dl
from iaug.data import signal_chain as sc
from iaug.data.audio import SAMPLE_RATE, read_mono
from iaug.data.librispeech import build_manifests, build_synth_corpus, make_noisy_copies
from iaug.data.manifest import DataError
from iaug.data.noise_clips import cut_noise_clips
from iaug.data.noisy_sets import snr_tag
from iaug.data.steps import (audio_fingerprint, claim, done_markers, extract_archives, find_one,
                              log, run_command, step)
from iaug.data.synth_noise import build_noise_sources

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "hparams" / "data.yaml"
SYNTH_SUBSETS = {"train": "train-synth", "dev": "dev-synth", "test": "test-synth"}


def roles(cfg, corpus, preset):
    """{manifest name: [subsets]}."""
    if corpus == "synth":
        return {role: [subset] for role, subset in SYNTH_SUBSETS.items()}
    return cfg["librispeech"]["presets"][preset]


def download(data_dir, cfg, corpus, preset, archive_dir, nj):
    seed = cfg["seed"]
    if corpus == "synth":
        sizes = dict(cfg["synth"][preset])
        # the signal chain: shared options, switched on per preset
        chain = {**cfg.get("signal_chain", {}), "enabled": bool(sizes.pop("signal_chain", False))}
        splits = {SYNTH_SUBSETS[r]: tuple(sizes[r]) for r in ("train", "dev", "test")}
        params = {"corpus": corpus, "seed": seed, **sizes}
        step(data_dir, "synth_corpus", {**params, "signal_chain": sc.recorded(chain)},
             [data_dir / "LibriSpeech" / s for s in splits],
             lambda: build_synth_corpus(data_dir / "LibriSpeech", splits, seed, nj, log, chain))
        step(data_dir, "noise_sources", params, [data_dir / "noise_sources"],
             lambda: build_noise_sources(data_dir / "noise_sources", sizes["noise_sources"],
                                         sizes["noise_source_s"], sizes["test_noise_s"], seed, nj))
        return
    ls = cfg["librispeech"]
    subsets = sorted({s for subs in ls["presets"][preset].values() for s in subs})
    for subset in subsets:
        def get(subset=subset):
            path = dl.fetch(ls["url"] + f"{subset}.tar.gz", f"{subset}.tar.gz",
                            data_dir / "downloads", archive_dir, log)
            dest = data_dir / "LibriSpeech" / subset
            if dest.exists():
                shutil.rmtree(dest)  # a half-finished extraction
            log(f"extracting {path.name}")
            dl.extract(path, data_dir)  # the archive holds LibriSpeech/<subset>/
            if not dest.is_dir():
                raise DataError(f"{path} did not contain LibriSpeech/{subset}/")
        step(data_dir, f"extract_{subset}", {"file": f"{subset}.tar.gz"},
             [data_dir / "LibriSpeech" / subset], get)
    extract_archives(data_dir, cfg["archives"], archive_dir)


def noise_paths(data_dir, cfg, corpus):
    """(training-noise source files, test-noise waveform loader)."""
    if corpus == "synth":
        src = data_dir / "noise_sources"
        return (sorted((src / "train").glob("*/*.wav")),
                lambda: read_mono(src / "test" / "home.wav", SAMPLE_RATE)[0])
    musan = data_dir / cfg["archives"]["musan"]["dest"]
    qut = data_dir / cfg["archives"]["qut_home"]["dest"]
    sources = sorted(p for p in musan.rglob("*.wav") if "noise" in p.parts)
    if not sources:
        raise DataError(f"no MUSAN noise recordings under {musan} (run stage 0)")

    return sources, lambda: read_mono(find_one(qut, cfg["qut_recording"]), SAMPLE_RATE)[0]


def manifests(data_dir, cfg, corpus, preset, on_bad, nj, vocab_size, token_type):
    seed = cfg["seed"]
    role_map = roles(cfg, corpus, preset)
    inputs = done_markers(data_dir, (".done_synth", ".done_noise_sources", ".done_extract"))
    sources, load_test_noise = noise_paths(data_dir, cfg, corpus)
    step(data_dir, "noise_clips", {"inputs": inputs, "clip_s": cfg["noise_clip_s"],
                                   "dev_fraction": cfg["noise_dev_fraction"]},
         [data_dir / "noise"], lambda: cut_noise_clips(sources, data_dir / "noise", cfg["noise_clip_s"],
                                                       cfg["noise_dev_fraction"], seed, nj, log))
    clean = data_dir / "LibriSpeech" / role_map["test"][0]
    name = cfg["noisy_name"]
    step(data_dir, "noisy_test", {"inputs": inputs, "snrs": cfg["snrs"], "test": role_map["test"][0]},
         [data_dir / "noisy_test"], lambda: log("noisy test files: " + str(make_noisy_copies(
             clean, load_test_noise(), data_dir / "noisy_test", name, cfg["snrs"], seed, nj))))
    noisy = {f"noisy/{name}_{snr_tag(s)}": (data_dir / "noisy_test" / f"{name}_{snr_tag(s)}",
                                            role_map["test"][0])
             for s in cfg["snrs"]}
    step(data_dir, "manifests", {"inputs": inputs, "roles": role_map, "snrs": cfg["snrs"],
                                 "on_bad": on_bad,
                                 # the transcripts as well as the audio: a corrected one is read
                                 "audio": audio_fingerprint(data_dir, suffixes=(".wav", ".flac", ".txt"))},
         [data_dir / "manifests"], lambda: log("manifest rows: " + ", ".join(
             f"{k} {v}" for k, v in build_manifests(data_dir, role_map, noisy, on_bad, nj, log).items())))
    tok = cfg["tokenizer"][corpus]
    vocab_size = vocab_size or tok["vocab_size"]
    token_type = token_type or tok["token_type"]
    step(data_dir, "tokenizer", {"inputs": inputs, "vocab_size": vocab_size, "type": token_type,
                                 "train_text": dl.sha256_of(data_dir / "manifests" / "train.csv")},
         [data_dir / "tokenizer" / f"{vocab_size}_{token_type}.model"],
         lambda: train_tokenizer(data_dir, vocab_size, token_type))


def train_tokenizer(data_dir, vocab_size, token_type):
    from speechbrain.tokenizers.SentencePiece import SentencePiece
    out = data_dir / "tokenizer"
    for old in out.glob(f"{vocab_size}_{token_type}.*"):
        old.unlink()  # stale model of an earlier corpus
    try:
        sp = SentencePiece(str(out), vocab_size, annotation_train=str(data_dir / "manifests" / "train.csv"),
                           annotation_read="wrd", model_type=token_type, character_coverage=1.0)
    except RuntimeError as e:  # e.g. a vocabulary too large for the training text
        raise DataError(f"sentencepiece ({token_type}, {vocab_size} pieces) on manifests/train.csv: "
                        f"{str(e).splitlines()[0]}; change tokenizer in hparams/data.yaml") from None
    log(f"tokenizer: {sp.sp.vocab_size()} {token_type} pieces -> {sp.prefix_model_file}.model")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["download", "manifests"])
    ap.add_argument("--corpus", choices=["synth", "librispeech"], required=True)
    ap.add_argument("--preset", choices=["tiny", "demo", "full"], default="demo")
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--archive_dir", help="folder holding archives fetched by hand (librispeech)")
    ap.add_argument("--on_bad", choices=["fail", "skip"], default="fail")
    ap.add_argument("--vocab_size", type=int, help="default: data.yaml tokenizer.<corpus>")
    ap.add_argument("--token_type", choices=["unigram", "bpe", "char"])
    ap.add_argument("--nj", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--config", default=str(DEFAULT_CONFIG))
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    cfg = yaml.safe_load(Path(args.config).read_text())
    def work():
        claim(data_dir, args.corpus)
        if args.cmd == "download":
            download(data_dir, cfg, args.corpus, args.preset, args.archive_dir, args.nj)
        else:
            manifests(data_dir, cfg, args.corpus, args.preset, args.on_bad, args.nj,
                      args.vocab_size, args.token_type)
    return run_command(args.cmd, work)

if __name__ == "__main__":
    sys.exit(main())
