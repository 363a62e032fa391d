"""What every iaug training script does around its Brain.

Command line: ``python train_x.py hparams.yaml [--preset PRESET.yaml]
[--key value ...]``; the hparams file's ``base:`` chain and the preset are
read by :mod:`iaug.hparams`.
"""

import io
import json
import logging
import os
import re
import sys
from datetime import date
from hashlib import sha256

import ruamel.yaml
import speechbrain as sb
import torch
import yaml
from hyperpyyaml import load_hyperpyyaml, resolve_references

from iaug.dataio import audio_dataset, error_line
from iaug.hparams import composed_yaml, plain_yaml, preset_overrides, snr_range

logger = logging.getLogger(__name__)


# What the common settings must be; checked before any work starts.
CHECKS = {
    "batch_size": (int, 1), "number_of_epochs": (int, 1), "patience": (int, 0),
    "num_workers": (int, 0), "lr_step_size": (int, 1), "ckpt_interval_steps": (int, 0),
    "seed": (int, None), "lr": (float, 0.0, "above"), "weight_decay": (float, 0.0),
    "snr_db": (float, None), "q": (float, 0.0),
}


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_values(values, hparams_file):
    """One line naming the first setting of the wrong type or range."""
    for key, (kind, low, *strict) in CHECKS.items():
        if key not in values or values[key] is None and key != "seed":
            continue
        value = values[key]
        if key == "snr_db" and not _number(value):  # or a range: one SNR per utterance drawn in it
            try:
                snr_range(value)
            except ValueError:
                raise SystemExit(f"{hparams_file}: {key} must be a number or a range [low, high], "
                                 f"got {value!r}") from None
            continue
        ok = _number(value)
        ok = ok and (kind is float or isinstance(value, int))
        ok = ok and (low is None or (value > low if strict else value >= low))
        if not ok:
            bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"
            raise SystemExit(f"{hparams_file}: {key} must be {'an integer' if kind is int else 'a number'}"
                             f"{bound}, got {value!r}")


def parse_arguments(argv):
    """SpeechBrain's parser plus ``--preset FILE`` (yaml overrides)."""
    argv = list(argv)
    preset_file = None
    if "--preset" in argv:
        i = argv.index("--preset")
        if i + 1 >= len(argv):
            raise SystemExit("--preset needs a yaml file")
        preset_file = argv.pop(i + 1)
        argv.pop(i)
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    preset = preset_overrides(preset_file, hparams_file) if preset_file else {}
    merged = {**preset, **(yaml.safe_load(overrides) or {} if overrides else {})}
    return hparams_file, run_opts, yaml.safe_dump(merged) if merged else ""


# Top-level settings the code reads by name (iaug.recipe, iaug.brains,
# SpeechBrain's Brain, run.sh); any other key must be referred to by another
# (``!ref <key>``), or it is a typo that would be silently ignored.
READ_BY_CODE = {
    "task", "modules", "opt_class", "lr_scheduler", "epoch_counter", "checkpointer",
    "train_logger", "train_dataloader_opts", "valid_dataloader_opts", "train_csv", "valid_csv",
    "test_csvs", "output_folder", "noise_mixer", "wav_augment", "spec_augment", "frozen",
    "init_from", "loss_weights", "seed", "snr_candidates", "q_candidates", "__set_seed",
    "audio_in_memory",
}


def unused_settings(text):
    """Top-level keys of composed yaml ``text`` that nothing reads."""
    from speechbrain.core import RunOptions

    keys = set(ruamel.yaml.YAML().load(text) or {})
    # a <key> named in a comment is not a use
    referred = set(re.findall(r"<([A-Za-z_]\w*)", re.sub(r"(?m)(^|\s)#.*$", "", text)))
    return sorted(keys - referred - READ_BY_CODE - set(RunOptions().as_dict()))


def resolved_yaml(hparams_file, overrides=""):
    """:func:`composed_yaml` with every ``!ref`` resolved. hyperpyyaml resolves
    in key order, and a base key may refer to a key its arm adds later whose
    value is itself a reference (``init_from`` -> ``init_generator`` ->
    ``exp_dir``): resolving again until nothing changes settles such chains."""
    text = composed_yaml(hparams_file, overrides)
    for _ in range(5):
        resolved = resolve_references(io.StringIO(text)).getvalue()
        if resolved == text:
            break
        text = resolved
    return text


def load(hparams_file, overrides=None):
    """The hparams objects of a file after its bases and ``overrides`` (a
    dict or yaml text): what ``load_hyperpyyaml`` gives for a plain file."""
    if isinstance(overrides, dict):
        overrides = yaml.safe_dump(overrides)
    return load_hyperpyyaml(io.StringIO(resolved_yaml(hparams_file, overrides or "")))


def load_hparams(argv):
    keep_freed_memory()
    hparams_file, run_opts, overrides = parse_arguments(argv)
    if distributed_rank() is None:  # a torchrun rank takes its own GPU
        try:
            check_device(run_opts.get("device") or "cpu")
        except ValueError as err:
            raise SystemExit(str(err)) from None
    unused = unused_settings(composed_yaml(hparams_file))  # the file's own typos
    if unused:
        raise SystemExit(f"{hparams_file}: setting(s) {', '.join(unused)} used by nothing "
                         "(a typo?)")
    check_values(plain_yaml(composed_yaml(hparams_file, overrides)), hparams_file)
    sb.utils.distributed.ddp_init_group(run_opts)
    text = resolved_yaml(hparams_file, overrides)
    hparams = load_hyperpyyaml(io.StringIO(text))
    sb.create_experiment_directory(experiment_directory=hparams["output_folder"], save_env_desc=False)
    if sb.utils.distributed.if_main_process():
        with open(os.path.join(hparams["output_folder"], "env.log"), "w", encoding="utf-8") as f:
            f.write(environment_description())
        # The resolved hparams of this run, base and overrides included: what
        # the evaluator and iaug-export rebuild the system from.
        with open(os.path.join(hparams["output_folder"], "hyperparams.yaml"), "w",
                  encoding="utf-8") as f:
            f.write(f"# Generated {date.today()} from:\n# {os.path.abspath(hparams_file)}\n"
                    "# yamllint disable\n")
            f.write(text)
    return hparams, run_opts


def environment_description():
    """SpeechBrain's ``env.log`` (Python, packages, git revision, CUDA), its
    package list read in this process: SpeechBrain runs ``pip freeze``,
    about 0.8 s of CPU per training, a tenth of a tiny one."""
    import importlib.metadata
    import subprocess

    packages = sorted({f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
                       if d.metadata["Name"]}, key=str.lower)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    cuda = (f"CUDA version:\n{torch.version.cuda}" if torch.cuda.is_available() and torch.version.cuda
            else f"ROCm version:\n{torch.version.hip}" if torch.cuda.is_available() else "CUDA not available")
    line = "==============================\n"
    return (f"SpeechBrain system description\n{line}Python version:\n{sys.version}\n{line}"
            "Installed Python packages:\n" + "".join(f"{p}\n" for p in packages) + line
            + (f"Git revision:\n{git.stdout}" if git.returncode == 0 else "Could not get git revision")
            + line + cuda)


def train_and_test(brain_class, argv=None):
    """Build datasets and brain from hparams, fit (resuming), test, summarise.

    The hparams name ``train_csv``, ``valid_csv`` and ``test_csvs`` (a mapping
    test-set name -> manifest); results go to ``<output_folder>/summary.json``.
    A bad audio file, a missing file or an unusable checkpoint (errors our
    readers raise on purpose, naming the file), or a loss that is not finite,
    ends the run with that one line.
    """
    from iaug.checkpoints import CheckpointError
    from iaug.data.audio import AudioError

    hparams, run_opts = load_hparams(sys.argv[1:] if argv is None else argv)
    task = hparams["task"]
    in_memory = hparams.get("audio_in_memory", False)
    try:
        train = audio_dataset(hparams["train_csv"], task, in_memory=in_memory)
        valid = audio_dataset(hparams["valid_csv"], task, in_memory=in_memory)
        brain = brain_class(
            modules=hparams["modules"],
            opt_class=hparams["opt_class"],
            hparams=hparams,
            run_opts=run_opts,
            checkpointer=hparams["checkpointer"],
        )
        brain.fit(
            hparams["epoch_counter"],
            train,
            valid,
            train_loader_kwargs=train_loader_options(hparams, train),
            valid_loader_kwargs=hparams["valid_dataloader_opts"],
        )
        tests = {}
        for name, csv in (hparams.get("test_csvs") or {}).items():
            brain.evaluate(
                audio_dataset(csv, task),
                min_key="loss",
                test_loader_kwargs=hparams["valid_dataloader_opts"],
            )
            tests[name] = brain.test_stats
    except (AudioError, CheckpointError, FileNotFoundError, FloatingPointError) as err:
        # not SpeechBrain's logged traceback: the message says all
        raise SystemExit(f"error: {error_line(err)}") from None
    summary = brain.write_summary(os.path.join(hparams["output_folder"], "summary.json"), test=tests)
    logger.info("summary: %s", json.dumps(summary, default=float))
    if torch.distributed.is_initialized():
        # Left to interpreter exit, gloo's threads can abort rank 0
        # ("terminate called without an active exception") after a good run.
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return brain, summary


def keep_freed_memory():
    """Let this process reuse the memory it frees instead of handing it back
    to the system (glibc's malloc; elsewhere nothing changes). glibc maps a
    block over 32 MB fresh from the system at each allocation and unmaps it
    when freed: a batch of 256 spectrograms is such a block, and zeroing its
    pages again each step cost a fifth of a CPU training epoch at batch 256
    (two threads, demo corpus; none at 64, which glibc already reuses).
    Results do not depend on it. Returns whether it applied."""
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    m_trim_threshold, m_mmap_threshold, limit = -1, -3, 2**31 - 1
    return bool(mallopt(m_mmap_threshold, limit)) and bool(mallopt(m_trim_threshold, limit))


def check_device(device):
    """``device`` as given, or a one-line ValueError: cpu, cuda or cuda:N of a
    GPU torch sees (else torch's own error comes as a traceback at first use)."""
    m = re.fullmatch(r"cpu|cuda(?::(\d+))?", str(device))
    if not m:
        raise ValueError(f"--device is cpu, cuda or cuda:N (got '{device}')")
    if device != "cpu" and torch.cuda.device_count() <= int(m.group(1) or 0):
        raise ValueError(f"--device {device}: torch sees no such GPU on this machine (use --device cpu)")
    return device


def distributed_rank():
    """This process's rank under torchrun, or None for a single process."""
    rank = os.environ.get("RANK")
    return int(rank) if rank is not None and os.environ.get("LOCAL_RANK") is not None else None


def train_loader_options(hparams, train):
    """The training loader's options. Under torchrun a shuffled order is a
    sampler seeded by the run's ``seed`` (SpeechBrain's DistributedSampler
    would shuffle with seed 0 whatever the run's seed), split between ranks."""
    opts = dict(hparams["train_dataloader_opts"])
    if distributed_rank() is not None and opts.pop("shuffle", False):
        opts["sampler"] = sb.dataio.sampler.ReproducibleRandomSampler(train, seed=hparams["seed"])
    return opts


def seed_rank_stream(seed):
    """Under torchrun, rank r > 0 draws its noise clips, offsets, SNRs and
    masks from a stream of its own, derived from ``seed`` (one seed for all
    ranks would give N ranks the same draws); rank 0 keeps the run's stream,
    so a single process draws exactly what it always drew."""
    rank = distributed_rank()
    if rank:
        torch.manual_seed(int.from_bytes(sha256(f"{seed}:{rank}".encode()).digest()[:7], "big"))
    return rank
