"""iaug-export: a trained system as a self-contained model folder.

    iaug-export --exp_dir exp --system importantaug [--generator exp/generator] --out models/kws
    iaug-export --reference ../shared/reference/importantaug_clf_frozen.pt --out models/authors

The folder holds hyperparams.yaml (inference only), recognizer.ckpt,
generator.ckpt and labels.txt; load it with
``iaug.inference.ImportantAugClassifier.from_hparams(source=folder)``.

The recognizer's definition is copied from the experiment's own
hyperparams.yaml (the resolved copy SpeechBrain saves next to the
checkpoints), so any recognizer the recipes build is exported as trained.
"""

import argparse
import io
import os
import sys

import torch
from ruamel.yaml import YAML

from iaug.augment import generator_top_db
from iaug.checkpoints import load_state
from iaug.data.gsc import GSC_LABELS

# Top-level hparams that define the recognizer at inference time; everything
# else in a training yaml is left behind.
MODEL_KEYS = ("stft", "recognizer")

# The generator's front end (the paper's 512-point STFT, hop 128), for a
# recognizer that reads another (fbank, waveform); top_db as the generator
# was trained.
STFT_YAML = """\
stft: !new:iaug.models.STFT
    n_fft: 512
    hop_length: 128
    top_db: {top_db}
"""

REFERENCE_RECOGNIZER = """\
recognizer: !new:iaug.models.Recognizer
    n_bins: {n_bins}
    num_classes: {num_classes}
"""

TAIL = """\
generator: !new:iaug.models.MaskGenerator
    channels: {channels}
modules:
{modules}
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        recognizer: !ref <recognizer>
        generator: !ref <generator>
"""


def _yaml():
    yaml = YAML()  # round-trip: keeps hyperpyyaml's tags and anchors
    yaml.width = 4096
    return yaml


def model_section(hparams_file):
    """(yaml text of the recognizer's definition, labels) of an experiment."""
    yaml = _yaml()
    with open(hparams_file, encoding="utf-8") as f:
        tree = yaml.load(f)
    section = {key: tree[key] for key in MODEL_KEYS if key in tree}
    if "recognizer" not in section:
        raise ValueError(f"{hparams_file} defines no 'recognizer': not an iaug recognizer system")
    task = tree.get("task")
    labels = task.get("labels") if hasattr(task, "get") else None
    if not labels:
        raise ValueError(f"{hparams_file}: its task has no labels: only label tasks are exported")
    out = io.StringIO()
    yaml.dump(section, out)
    return out.getvalue(), [str(x) for x in labels]


MODEL_FILES = {"hyperparams.yaml", "labels.txt", "recognizer.ckpt", "generator.ckpt"}
MODEL_MARK = "# Inference hparams of an ImportantAug system"


def check_out(out):
    """``out`` is new, empty or an exported model folder (which it replaces):
    never an experiment folder, whose training hyperparams.yaml it would overwrite."""
    if not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise ValueError(f"--out {out} is a file, not a folder")
    present = set(os.listdir(out))
    if not present:
        return
    hparams = os.path.join(out, "hyperparams.yaml")
    exported = present <= MODEL_FILES and os.path.isfile(hparams)
    if exported:
        with open(hparams, encoding="utf-8") as f:
            exported = any(line.startswith(MODEL_MARK) for line in f)
    if not exported:
        raise ValueError(f"--out {out} is a folder that is not an exported model (it holds "
                         f"{', '.join(sorted(present)[:3])}{', ...' if len(present) > 3 else ''}): "
                         "name a new folder")


def write_folder(out, model_yaml, labels, recognizer_state, generator_state, provenance,
                 top_db=None):
    """Write the model folder; returns its path. ``top_db``: the generator's
    dB floor, used when the recognizer brings no ``stft`` of its own."""
    check_out(out)
    os.makedirs(out, exist_ok=True)
    names = [line.split(":")[0] for line in model_yaml.splitlines()
             if line and not line[0].isspace() and not line.startswith("#")]
    modules = "\n".join(f"    {name}: !ref <{name}>" for name in [*names, "generator"])
    if "stft" not in names:
        model_yaml = STFT_YAML.format(top_db="null" if top_db is None else top_db) + model_yaml
        modules = "    stft: !ref <stft>\n" + modules
    header = "".join(f"# {line}\n" for line in provenance)
    text = (header + f"{MODEL_MARK} (iaug.inference.ImportantAugClassifier)\n"
            "sample_rate: 16000\n"
            f"labels: [{', '.join(labels)}]  # also in labels.txt\n"
            + model_yaml
            + TAIL.format(channels=generator_state["conv1.weight"].shape[0], modules=modules))
    with open(os.path.join(out, "hyperparams.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(out, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(labels) + "\n")
    torch.save(recognizer_state, os.path.join(out, "recognizer.ckpt"))
    torch.save(generator_state, os.path.join(out, "generator.ckpt"))
    return out


def export_system(experiment, generator, out):
    """Export the best checkpoint (by dev loss) of ``experiment`` with ``generator``."""
    hparams_file = os.path.join(experiment, "hyperparams.yaml")
    if not os.path.isfile(hparams_file):
        raise FileNotFoundError(f"{hparams_file} missing: is {experiment} a trained system?")
    model_yaml, labels = model_section(hparams_file)
    rec_state, rec_path = load_state(experiment, "recognizer")
    gen_state, gen_path = load_state(generator, "generator")
    return write_folder(out, model_yaml, labels, rec_state, gen_state,
                        [f"recognizer: {os.path.abspath(rec_path)}",
                         f"generator: {os.path.abspath(gen_path)}"],
                        top_db=generator_top_db(generator))


def export_reference(checkpoint, out, labels=GSC_LABELS):
    """Export a checkpoint in the authors' format (recognizer + generator)."""
    rec_state, _ = load_state(checkpoint, "recognizer")
    gen_state, _ = load_state(checkpoint, "generator")
    n_classes, n_bins = rec_state["linear3.weight"].shape
    model_yaml = STFT_YAML.format(top_db="null") + REFERENCE_RECOGNIZER.format(n_bins=n_bins, num_classes=n_classes)
    return write_folder(out, model_yaml, list(labels), rec_state, gen_state,
                        [f"authors' checkpoint: {os.path.abspath(checkpoint)}"])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="iaug-export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp_dir", default="exp", help="folder of the trained systems")
    parser.add_argument("--system", help="system folder under --exp_dir (e.g. importantaug)")
    parser.add_argument("--generator", help="generator source (default: <exp_dir>/generator)")
    parser.add_argument("--reference", help="a checkpoint in the authors' format instead")
    parser.add_argument("--out", required=True, help="model folder to write")
    args = parser.parse_args(argv)
    try:
        if args.reference:
            out = export_reference(args.reference, args.out)
        else:
            if not args.system:
                parser.error("--system is needed (or --reference)")
            generator = args.generator or os.path.join(args.exp_dir, "generator")
            out = export_system(os.path.join(args.exp_dir, args.system), generator, args.out)
    except (FileNotFoundError, ValueError, KeyError) as err:
        print(f"iaug-export: error: {err}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
