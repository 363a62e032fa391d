"""iaug-diagnose: where a generator puts the noise, and where its recognizer
reads the words (:func:`iaug.analysis.generator_report`).

    iaug-diagnose --recognizer exp/synth_demo/baseline --generator exp/synth_demo/generator \\
        --manifest data/synth/manifests/test.csv --noise_csv data/synth/manifests/noise_dev.csv

    iaug-diagnose --recognizer authors.pt --hparams egs/gsc_qut/kws/hparams/baseline.yaml \
        --overrides "{data_dir: .}" --generator authors.pt --manifest FOLDER --noise_csv ...

``--recognizer`` is an experiment folder, or a checkpoint (the authors' ``.pt``)
with ``--hparams`` that build it; ``--generator`` what ``iaug-plot`` takes
(omit it to measure the recognizer alone). Prints the mask on the speech bins
and elsewhere, the recognizer's error with noise on either region and which
region its loss asks stage A to protect first; ``--out`` also writes the whole
report as JSON.
"""

import argparse
import json
import os
import sys

import yaml


def diagnose(recognizer, manifest, noise_csv, generator=None, hparams=None, snr_db=-12.5,
             device="cpu", overrides=None):
    """The report of ``generator`` (or of the recognizer alone) on ``manifest``."""
    from iaug.analysis import generator_report
    from iaug.dataio import audio_dataset
    from iaug.evaluate import System, generator_with_frontend
    from iaug.mixing import NoiseBank

    system = System("recognizer", recognizer, hparams_file=hparams, overrides=overrides,
                    device=device).load_best()
    stft = system.hparams["stft"]
    gen = None
    if generator is not None:
        gen, gen_stft = generator_with_frontend(generator)
        if (gen_stft.n_fft, gen_stft.hop_length) != (stft.n_fft, stft.hop_length):
            raise ValueError(f"{generator} reads another STFT than {recognizer}")
    listed = manifest
    if os.path.isdir(manifest):  # a folder in Speech Commands layout
        from iaug.dataio import folder_manifest

        listed = folder_manifest(manifest, system.task.labels)
    data = audio_dataset(listed, system.task)
    report = generator_report(stft, system.brain.modules.recognizer, system.task, gen, data,
                              NoiseBank.from_csv(noise_csv), snr_db, device=device,
                              generator_stft=gen_stft if gen is not None else None)
    return {"recognizer": recognizer, "generator": generator, "manifest": manifest,
            "noise_csv": noise_csv, "snr_db": snr_db, **report}


def cached_diagnosis(out_json, recognizer, manifest, noise_csv, generator, snr_db=-12.5,
                     device="cpu"):
    """:func:`diagnose`, reused from ``out_json`` while the checkpoints, the
    manifest and the noise it was made with are unchanged."""
    from iaug.checkpoints import checkpoint_file
    from iaug.data.download import sha256_of
    from iaug.evaluate import manifest_sha256
    from iaug.scoring import atomic_write

    # the manifests' keys cover the audio they list, as scoring's reuse does
    key = {"recognizer_sha256": sha256_of(checkpoint_file(recognizer, "recognizer")),
           "generator_sha256": sha256_of(checkpoint_file(generator, "generator")),
           "manifest_sha256": manifest_sha256(manifest), "noise_sha256": manifest_sha256(noise_csv),
           "snr_db": snr_db}
    if os.path.isfile(out_json):
        with open(out_json, encoding="utf-8") as f:
            saved = json.load(f)
        if all(saved.get(k) == v for k, v in key.items()):
            return saved
    report = {**diagnose(recognizer, manifest, noise_csv, generator, snr_db=snr_db,
                         device=device), **key}
    atomic_write(out_json, json.dumps(report, indent=1, sort_keys=True) + "\n")
    return json.loads(json.dumps(report))  # the keys as a reread file has them


def main(argv=None):
    from iaug.analysis import diagnostic_lines

    parser = argparse.ArgumentParser(prog="iaug-diagnose", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recognizer", required=True)
    parser.add_argument("--generator")
    parser.add_argument("--hparams", help="builds the recognizer of a checkpoint file")
    parser.add_argument("--overrides", default="", help="yaml overrides of those hparams "
                        "(a recipe's need a data_dir, as iaug-eval's do)")
    parser.add_argument("--manifest", required=True,
                        help="utterances to measure on: a manifest, or a folder <label>/*.wav")
    parser.add_argument("--noise_csv", required=True, help="noise manifest (e.g. noise_dev.csv)")
    parser.add_argument("--snr_db", type=float, default=-12.5, help="of the generator's noise")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="JSON file of the whole report")
    args = parser.parse_args(argv)
    for path in (args.manifest, args.noise_csv):
        if not os.path.exists(path):
            print(f"iaug-diagnose: error: no such manifest: {path}", file=sys.stderr)
            return 1
    try:
        from iaug.recipe import check_device

        check_device(args.device)
        overrides = yaml.safe_load(args.overrides) or {}
        if not isinstance(overrides, dict):
            raise ValueError(f"--overrides: a yaml mapping, got {args.overrides!r}")
        report = diagnose(args.recognizer, args.manifest, args.noise_csv, args.generator,
                          args.hparams, args.snr_db, args.device, overrides)
    except (FileNotFoundError, ValueError, KeyError, yaml.YAMLError) as err:
        print(f"iaug-diagnose: error: {err}", file=sys.stderr)
        return 1
    print("\n".join(diagnostic_lines(report)))
    if args.out:
        from iaug.scoring import atomic_write

        atomic_write(args.out, json.dumps(report, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
