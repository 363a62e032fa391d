"""Load a module's weights from any place iaug writes or reads them."""

import logging
import os
import pickle

import speechbrain as sb
import torch
from speechbrain.utils import checkpoints as sb_checkpoints
from speechbrain.utils import epoch_loop
from speechbrain.utils.checkpoints import (
    mark_as_loader,
    mark_as_saver,
    register_checkpoint_hooks,
)

logger = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the one-line message names it."""


def split_reference_state(state):
    """Authors' ``model_state_dict`` -> (recognizer state, generator state)."""
    rec = {k[len("classifier."):]: v for k, v in state.items() if k.startswith("classifier.")}
    gen = {k[len("gen."):]: v for k, v in state.items() if k.startswith("gen.")}
    if not rec or not gen:
        raise ValueError("not an ImportantAug checkpoint: expected 'classifier.*' and 'gen.*' keys")
    return rec, gen


def best_checkpoint_dir(source, min_key="loss"):
    """The best (lowest ``min_key``) SpeechBrain checkpoint under ``source``.

    ``source`` is an experiment folder (holding ``save/``) or a save folder.
    """
    save_dir = os.path.join(source, "save") if os.path.isdir(os.path.join(source, "save")) else source
    ckpt = Checkpointer(save_dir).find_checkpoint(min_key=min_key)
    if ckpt is None:
        raise FileNotFoundError(f"no checkpoint under {save_dir}: train that system first")
    return ckpt.path


def checkpoint_file(source, name):
    """The file :func:`load_state` reads ``name`` from."""
    if os.path.isdir(source):
        return os.path.join(best_checkpoint_dir(source), f"{name}.ckpt")
    if os.path.isfile(source):
        return source
    raise FileNotFoundError(f"cannot load the {name}: {source} does not exist")


def load_state(source, name):
    """State dict of ``name`` ('recognizer' or 'generator') and the file it came from.

    ``source`` may be an experiment or save folder (best checkpoint by dev
    loss, file ``<name>.ckpt``), a ``.ckpt`` state dict, or a checkpoint in the
    authors' format (``importantaug_clf_frozen.pt``).
    """
    path = checkpoint_file(source, name)
    try:
        # weights only: a checkpoint is data, and unpickling anything else
        # would run whatever code the file names
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot load the {name}: {path} does not exist") from None
    except pickle.UnpicklingError as err:
        if "weights only" in str(err).lower():
            raise CheckpointError(f"refused to load the {name}: {path} holds more than tensors and "
                                  "plain values (reading it could run code)") from None
        raise CheckpointError(f"cannot load the {name}: {path} is corrupt or truncated "
                              f"({_first_line(err)})") from None
    except (RuntimeError, EOFError, OSError) as err:
        # torch's own message (a stream-reader error) does not name the file
        raise CheckpointError(f"cannot load the {name}: {path} is corrupt or truncated "
                              f"({_first_line(err)})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"cannot load the {name}: {path} holds no state dict")
    if "model_state_dict" in state:
        rec, gen = split_reference_state(state["model_state_dict"])
        state = {"recognizer": rec, "generator": gen}[name]
    return state, path


def _first_line(err):
    return str(err).splitlines()[0].split(". ")[0] if str(err) else type(err).__name__


def load_weights(module, source, name):
    """Load ``module`` from ``source`` (see :func:`load_state`); returns the file."""
    state, path = load_state(source, name)
    try:
        getattr(module, "module", module).load_state_dict(state)
    except RuntimeError as err:  # torch lists every mismatch on lines of their own
        reason = "; ".join(line.strip() for line in str(err).splitlines() if line.strip())
        raise CheckpointError(f"{path} does not fit the {name}: {reason}") from None
    return path


def freeze(module):
    """Eval mode and no gradients: the module is used, never trained."""
    module.eval()
    for param in module.parameters():
        param.requires_grad_(False)
    return module


@register_checkpoint_hooks
class EpochCounterWithStopper(epoch_loop.EpochCounterWithStopper):
    """SpeechBrain's epoch counter with early stopping, checkpointed whole.

    speechbrain 1.1.2 registers checkpoint hooks on ``EpochCounter`` only, so
    its stopper saves just the epoch number and a resumed run forgets the best
    dev loss and its epoch. Registering the subclass saves and restores them.
    The stop decision is remade on recovery from the patience in the hparams,
    so raising ``patience`` (or ``number_of_epochs``) and rerunning continues
    a run that had stopped early.
    """

    @mark_as_saver
    def _save(self, path):
        super()._save(path)

    @mark_as_loader
    def _recover(self, path, end_of_epoch=True, device=None):
        with open(path, encoding="utf-8") as f:
            state = f.read().strip()
        if state.isdigit():  # a plain epoch counter's file (older checkpoints)
            self.current = int(state) if end_of_epoch else int(state) - 1
            return
        super()._recover(path, end_of_epoch, device)
        self.should_stop = (self.current > self.limit_warmup
                            and self.current - self.best_limit >= self.limit_to_stop)


class Checkpointer(sb_checkpoints.Checkpointer):
    """SpeechBrain's Checkpointer that survives a checkpoint cut short.

    SpeechBrain writes a checkpoint's meta file before its parameter files, so
    a run killed while saving leaves a checkpoint that looks complete but
    fails to load. Recovery here skips such a checkpoint (renamed ``BROKEN+...``
    with a warning, on the main process) and loads the next one instead: the
    run resumes from its last good state instead of crashing.
    """

    def recover_if_possible(self, importance_key=None, max_key=None, min_key=None,
                            ckpt_predicate=None):
        broken = set()

        def usable(ckpt):
            return ckpt.path not in broken and (ckpt_predicate is None or ckpt_predicate(ckpt))

        while True:
            chosen = self.find_checkpoint(importance_key, max_key, min_key, usable)
            if chosen is None:
                logger.info("no usable checkpoint under %s yet", self.checkpoints_dir)
                return None
            try:
                self.load_checkpoint(chosen)
                return chosen
            except (EOFError, RuntimeError, pickle.UnpicklingError, OSError, ValueError) as err:
                broken.add(chosen.path)
                logger.warning("checkpoint %s is unreadable (%s: %s), probably cut short; "
                               "using the previous one", chosen.path, type(err).__name__, err)
                if sb.utils.distributed.if_main_process():
                    try:
                        chosen.path.rename(chosen.path.with_name("BROKEN+" + chosen.path.name))
                    except OSError:
                        pass
