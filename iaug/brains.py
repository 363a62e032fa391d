"""SpeechBrain ``Brain`` classes of ImportantAug.

* :class:`RecognizerBrain` trains a recognizer under any augmentation: the
  baseline, conventional noise, ImportantAug, Null and Binarized ImportantAug
  differ only in the hparams' ``noise_mixer`` (and its mask policy).
* :class:`GeneratorBrain` trains the importance-map generator against a
  frozen recognizer (stage A of the paper).

Both are task-agnostic: ``hparams.task`` supplies the recognizer's forward
pass, objective and scoring (:mod:`iaug.tasks`).
"""

import json
import logging
import math

import torch
import speechbrain as sb
from speechbrain.augment.time_domain import SpeedPerturb

from iaug.checkpoints import CheckpointError, freeze, load_weights
from iaug.analysis import regions
from iaug.losses import importance_loss, masked_mean
from iaug.models import reads
from iaug.recipe import seed_rank_stream

logger = logging.getLogger(__name__)


class _ImportanceBrain(sb.Brain):
    """Front-end, one trainable module, the paper's schedule, best-by-dev-loss."""

    trainable = None  # name of the module in ``modules`` that is optimised

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plans = {}  # stage -> this rank's share of its set (see shard)

    def check_loss_isfinite(self, loss):
        # SpeechBrain skips up to --nonfinite_patience non-finite batches, then
        # raises a ValueError with advice for its own debugging; ours names the run
        try:
            super().check_loss_isfinite(loss)
        except ValueError:
            raise FloatingPointError(
                f"train loss not finite in {self.nonfinite_count} batches (more than "
                f"--nonfinite_patience) in epoch {self.hparams.epoch_counter.current}: "
                + self.advice()
            ) from None

    def advice(self, stage=sb.Stage.TRAIN):
        if stage == sb.Stage.TEST:  # scoring a trained system
            return "check the data and the system's checkpoint"
        return ("lower the learning rate or check the data; the last good checkpoint is kept in "
                f"{self.checkpointer.checkpoints_dir if self.checkpointer else 'nowhere'}")

    def make_dataloader(self, dataset, stage, ckpt_prefix="dataloader-", **loader_kwargs):
        if str(self.device).startswith("cuda"):  # batches copied to the GPU without a wait
            loader_kwargs.setdefault("pin_memory", True)
        if stage != sb.Stage.TRAIN:
            loader_kwargs = self.shard(dataset, stage, loader_kwargs)
        return super().make_dataloader(dataset, stage, ckpt_prefix, **loader_kwargs)

    # Under DDP each rank scores every world-th batch of a dev or test set, the
    # batches a single process makes; the ranks' records, merged in batch
    # order, give the stats (loss, error rate, decisions) of a single process.
    shards_eval = True

    def shard(self, dataset, stage, opts):
        """This rank's share of a dev or test set's loader options: batch k
        of the single-process order goes to rank k mod world size (a set of
        fewer batches than ranks leaves some with none). A shuffled or
        sampled loader is left whole to every rank, as SpeechBrain does."""
        self.plans[stage] = None
        if not (self.distributed_launch and self.shards_eval) or any(
                opts.get(k) for k in ("shuffle", "sampler", "batch_sampler", "drop_last")):
            return opts
        opts = {k: v for k, v in opts.items() if k not in ("shuffle", "drop_last")}
        size = opts.pop("batch_size", 1)
        world = torch.distributed.get_world_size()
        batches = [list(range(i, min(i + size, len(dataset)))) for i in range(0, len(dataset), size)]
        self.plans[stage] = {"sizes": [len(b) for b in batches], "world": world}
        opts["batch_sampler"] = batches[self.rank::world]
        return opts

    def batch_index(self, stage):
        """Index of the batch this rank scores now in the single-process order
        of its sharded set (SpeechBrain counts ``self.step`` from 1 in a stage)."""
        return self.rank + (self.step - 1) * self.plans[stage]["world"]

    def evaluate_batch(self, batch, stage):
        if not self.plans.get(stage):
            return super().evaluate_batch(batch, stage)
        stats = self.stats["error"]
        scored, extra = len(stats.scores), {k: len(v) for k, v in self.extra.items()}
        loss = super().evaluate_batch(batch, stage)
        self.records.append((self.batch_index(stage), loss, stats.ids[scored:], stats.scores[scored:],
                             {k: v[extra.get(k, 0):] for k, v in self.extra.items()
                              if len(v) > extra.get(k, 0)}))
        return loss

    def merge_shards(self):
        """Every rank's records in batch order: this rank's stats, extra
        values, batch counts and stage loss become those of one process."""
        parts = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(parts, self.records)
        stats = self.stats["error"]
        stats.ids.clear()
        stats.scores.clear()
        self.extra, self.batches, self.nonfinite_batches = {}, 0, 0
        step, stage_loss = self.step, 0.0
        for self.step, (_, loss, ids, scores, extra) in enumerate(
                sorted((r for part in parts for r in part), key=lambda r: r[0]), 1):
            stats.ids.extend(ids)
            stats.scores.extend(scores)
            for key, values in extra.items():
                self.extra.setdefault(key, []).extend(values)
            stage_loss = self.update_average(loss, stage_loss)
        self.step = step
        return stage_loss

    def forward_modules(self, stage):
        """The modules a stage's forward calls: for dev and test, DDP's
        wrapped modules bare (a DDP forward may sync buffers, a collective
        that a rank with fewer batches, or none, would never join)."""
        if stage == sb.Stage.TRAIN or not self.distributed_launch:
            return self.modules
        ddp = torch.nn.parallel.DistributedDataParallel
        return torch.nn.ModuleDict({k: m.module if isinstance(m, ddp) else m
                                    for k, m in self.modules.items()})

    def features(self, wavs, lens, db=True):
        """Complex spectrogram, its dB magnitude (None unless ``db``) and the
        real-frame mask."""
        spec = self.modules.stft(wavs)
        frame_mask = self.modules.stft.frame_mask(lens, spec.shape[-1])
        return spec, self.modules.stft.db(spec) if db else None, frame_mask

    def init_optimizers(self):
        module = getattr(self.modules, self.trainable)
        self.optimizer = self.opt_class(module.parameters())
        self.optimizers_dict = {"optimizer": self.optimizer}
        self.lr_scheduler = self.hparams.lr_scheduler(self.optimizer)
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("optimizer", self.optimizer)
            self.checkpointer.add_recoverable("lr_scheduler", self.lr_scheduler)

    def on_fit_start(self):
        # Initial and frozen weights first; a checkpoint of this run, if any,
        # then overrides them when super() recovers it.
        for name, source in (getattr(self.hparams, "init_from", None) or {}).items():
            if source:
                try:
                    path = load_weights(getattr(self.modules, name), source, name)
                except CheckpointError as err:  # one line, saying it is this run's init_from
                    raise CheckpointError(f"init_from {name}: {err}") from None
                logger.info("initialised %s from %s", name, path)
        for name in getattr(self.hparams, "frozen", None) or []:
            freeze(getattr(self.modules, name))
        super().on_fit_start()
        seed_rank_stream(self.hparams.seed)

    def keep_frozen_in_eval(self):
        # SpeechBrain puts every module in training mode after on_stage_start:
        # a frozen one (its dropout) must stay in eval mode for the whole stage
        for name in getattr(self.hparams, "frozen", None) or []:
            getattr(self.modules, name).eval()

    def on_fit_batch_start(self, batch, should_step):
        self.keep_frozen_in_eval()

    def on_stage_start(self, stage, epoch=None):
        self.keep_frozen_in_eval()
        self.stats = {"error": self.hparams.task.new_stats()} if stage != sb.Stage.TRAIN else {}
        self.extra = {}
        self.records = []
        self.nonfinite_batches = self.batches = 0

    def update_average(self, loss, avg_loss):
        # SpeechBrain leaves a non-finite batch out of the average, so a
        # stage of NaN losses would report a loss of 0: count them
        self.batches += 1
        self.nonfinite_batches += not torch.isfinite(loss)
        return super().update_average(loss, avg_loss)

    def summarize(self, stage_loss):
        stats = {"loss": stage_loss}
        if "error" in self.stats:
            stats["error_rate"] = self.stats["error"].summarize("error_rate")
        stats.update({k: sum(v) / len(v) for k, v in self.extra.items()})
        return stats

    def on_stage_end(self, stage, stage_loss, epoch=None):
        if self.plans.get(stage):
            stage_loss = self.merge_shards()
        # training tolerates --nonfinite_patience bad batches; dev and test none
        bad = self.nonfinite_batches
        if bad and (stage != sb.Stage.TRAIN or bad == self.batches):
            stage_loss = float("nan")
        if not math.isfinite(stage_loss):
            raise FloatingPointError(
                f"{stage.name.lower()} loss not finite ({bad} of {self.batches} batches)"
                + (f" in epoch {epoch}" if epoch is not None else "") + ": " + self.advice(stage)
            )
        stats = self.summarize(stage_loss)
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
        elif stage == sb.Stage.VALID:
            lr = self.optimizer.param_groups[0]["lr"]
            self.lr_scheduler.step()
            self.hparams.epoch_counter.update_metric(stage_loss)
            self.hparams.train_logger.log_stats(
                {"epoch": epoch, "lr": lr}, train_stats=self.train_stats, valid_stats=stats
            )
            self.checkpointer.save_and_keep_only(meta=stats, min_keys=["loss"])
        else:
            self.test_stats = stats
            self.hparams.train_logger.log_stats(
                {"Epoch loaded": self.hparams.epoch_counter.current}, test_stats=stats
            )

    def write_summary(self, path, **extra):
        """JSON of the best checkpoint's dev stats (used to pick SNR / q on dev)."""
        best = self.checkpointer.find_checkpoint(min_key="loss")
        summary = {"best_dev": best.meta if best else None, **extra}
        if sb.utils.distributed.if_main_process():
            with open(path, "w", encoding="utf-8") as f:
                json.dump(summary, f, indent=2, default=float)
        return summary


class RecognizerBrain(_ImportanceBrain):
    """Recognizer training and scoring. In the training stage only, three
    optional hparams augment the input, in this order: ``wav_augment`` (a
    waveform augmenter keeping the batch size, such as
    ``speechbrain.augment.Augmenter`` or :class:`iaug.augment.ImportantAug`),
    ``noise_mixer`` (noise shaped by its mask policy, the generator frozen) and
    ``spec_augment`` (an ``Augmenter`` on the [B, T, F] dB spectrogram, e.g.
    of SpeechBrain's ``SpectrogramDrop``). None of them: the baseline. The
    last two need a recognizer that reads the spectrogram. Dev and test are
    scored on the input as given; the evaluator (:mod:`iaug.evaluate`) scores
    any system through this class."""

    trainable = "recognizer"

    def on_fit_start(self):
        super().on_fit_start()
        place_speed_perturb(getattr(self.hparams, "wav_augment", None), self.device)

    def compute_forward(self, batch, stage):
        batch = batch.to(self.device, non_blocking=True)
        wavs, lens = batch.sig
        train = stage == sb.Stage.TRAIN
        wav_augment = getattr(self.hparams, "wav_augment", None)
        if train and wav_augment is not None:
            batch_size = wavs.shape[0]
            augmented = wav_augment(wavs, lens)
            wavs, lens = augmented if isinstance(augmented, tuple) else (augmented, lens)
            if wavs.shape[0] != batch_size:
                raise ValueError("wav_augment must keep the batch size "
                                 "(Augmenter: parallel_augment/concat_original False)")
        if reads(self.modules.recognizer) == "waveform":
            return self.hparams.task.forward(self.forward_modules(stage), wavs, lens)
        mixer = getattr(self.hparams, "noise_mixer", None) if train else None
        # plain noise reads nothing of the clean speech's dB
        spec, spec_db, frame_mask = self.features(
            wavs, lens, db=mixer is None or mixer.policy is not None)
        if mixer is not None:
            with torch.no_grad():
                spec, _ = mixer(self.modules.stft, spec, spec_db, frame_mask)
                spec_db = self.modules.stft.db(spec)
        spec_augment = getattr(self.hparams, "spec_augment", None)
        if train and spec_augment is not None:
            spec_db = spec_augment(spec_db.transpose(1, 2), lens)[0].transpose(1, 2)
        return self.hparams.task.forward(self.forward_modules(stage), spec_db, frame_mask)

    def compute_objectives(self, predictions, batch, stage):
        loss = self.hparams.task.loss(predictions, batch)
        if stage != sb.Stage.TRAIN:
            self.hparams.task.append_stats(self.stats["error"], predictions, batch)
        return loss


class GeneratorBrain(_ImportanceBrain):
    """Stage A: the generator learns to put as much noise as the frozen
    recognizer tolerates (``hparams.noise_mixer`` uses a ``LearnedMask``)."""

    trainable = "generator"

    @property
    def shards_eval(self):
        # a rank skips the draws of the batches the others score
        return self.hparams.noise_mixer.skippable

    def on_stage_start(self, stage, epoch=None):
        super().on_stage_start(stage, epoch)
        self.eval_rng = torch.Generator(self.device).manual_seed(self.hparams.seed)
        # Under DDP, in training, ``modules.generator`` is the wrapped module:
        # the policy must call it (not the bare module it was built with) for
        # the ranks' gradients to be averaged.
        self.hparams.noise_mixer.policy.generator = self.forward_modules(stage).generator

    def compute_forward(self, batch, stage):
        batch = batch.to(self.device, non_blocking=True)
        spec, spec_db, frame_mask = self.features(*batch.sig)
        # Dev and test draw the same noise every epoch, so their losses compare.
        rng = None if stage == sb.Stage.TRAIN else self.eval_rng
        plan = self.plans.get(stage)
        if plan:  # the draws of the batches since this rank's last, scored by the others
            index = self.batch_index(stage)
            for size in plan["sizes"][max(index - plan["world"] + 1, 0):index]:
                self.hparams.noise_mixer.skip(size, rng)
        noisy, mask = self.hparams.noise_mixer(self.modules.stft, spec, spec_db, frame_mask, rng)
        predictions = self.hparams.task.forward(self.forward_modules(stage), self.modules.stft.db(noisy),
                                                frame_mask)
        return predictions, mask, frame_mask, spec

    def compute_objectives(self, outputs, batch, stage):
        predictions, mask, frame_mask, spec = outputs
        task_loss = self.hparams.task.loss(predictions, batch)
        loss, terms = importance_loss(task_loss, mask, frame_mask, **self.hparams.loss_weights)
        if stage != sb.Stage.TRAIN:
            self.hparams.task.append_stats(self.stats["error"], predictions, batch)
            for key, value in terms.items():
                self.extra.setdefault(key, []).append(float(value))
            self.extra.setdefault("mean_mask", []).append(float(masked_mean(mask, frame_mask)))
            # where the noise goes: ImportantAug's premise is a lower mask on the speech
            for key, region in zip(("mask_speech", "mask_other"), regions(spec, frame_mask)):
                if region.any():
                    self.extra.setdefault(key, []).append(float(mask[region].mean()))
        return loss


def place_speed_perturb(wav_augment, device):
    """Put SpeechBrain's ``SpeedPerturb`` (in ``wav_augment`` or its
    ``augmentations``) on ``device``: it resamples on its own ``device``
    argument, the CPU unless told, a copy to the host and back per batch."""
    augmentations = getattr(wav_augment, "augmentations", None)
    for augment in [wav_augment, *(augmentations.values() if isinstance(augmentations, dict) else ())]:
        for module in augment.modules() if isinstance(augment, torch.nn.Module) else ():
            if isinstance(module, SpeedPerturb):
                module.device = device
