"""What a generator learned, measured against a frozen recognizer of any task.

Two questions decide whether a trained generator does what ImportantAug
means it to do:

* **Where does its mask put the noise?** The mean noise mask on the *speech
  bins* and on the other bins. Speech bins (:func:`speech_bins`): the bins of
  the clean input within ``SPEECH_TOP_DB`` (40) dB of the utterance's loudest
  bin, over its real frames: the voiced, strong parts of the speech. A
  generator that protects the speech has the lower mean on the speech bins.
* **Where does the recognizer read the words?** Its error with the same noise
  (one gain, that of the unmasked noise at the SNR) placed on the speech bins
  only and on the other bins only. A recognizer that breaks under noise
  around the speech and not on it reads its words from the near-silent bins:
  a generator trained against it learns to pour the noise onto the speech.
* **Which way does stage A start?** The gradient of the recognizer's loss
  with respect to the mask, at the all-ones mask (plain noise at the SNR),
  averaged over the speech bins and over the others. Stage A lowers the mask
  first where it is largest; a recognizer helped by more noise on the speech
  (a negative gradient there) makes it paint the word's outline into the
  noise. This needs only the recognizer, so a corpus can be judged before
  a generator is trained on it.
"""

import torch
import speechbrain as sb

from iaug.mixing import NoiseMixer, snr_gain
from iaug.models.frontends import magnitude_db
from iaug.policies import LearnedMask

SPEECH_TOP_DB = 40.0
SENSITIVITY_SNRS = (10.0, 0.0)


def speech_bins(spec_db, frame_mask=None, top_db=SPEECH_TOP_DB):
    """[B, F, T] bool: bins of the clean dB spectrogram within ``top_db`` of
    the utterance's loudest real bin (padded frames are never speech)."""
    real = torch.ones_like(spec_db, dtype=torch.bool) if frame_mask is None \
        else (frame_mask[:, None, :] > 0).expand_as(spec_db)
    loudest = torch.where(real, spec_db, torch.full_like(spec_db, -torch.inf)).flatten(1).amax(1)
    return real & (spec_db >= loudest[:, None, None] - top_db)


class GivenMask:
    """A policy whose mask is set from outside, batch by batch."""

    mask = None

    def __call__(self, spec_db, rng=None):
        return self.mask


def regions(spec, frame_mask):
    """(speech bins, the other real bins) of a clean complex spectrogram,
    [B, F, T] bool each. Read on its raw dB, not on a front-end's: a floor
    within ``SPEECH_TOP_DB`` of the peak would put every bin in "speech"."""
    speech = speech_bins(magnitude_db(spec), frame_mask)
    return speech, (frame_mask[:, None, :] > 0).expand_as(speech) & ~speech


def _region_sums(mask, region):
    """(sum of ``mask`` over ``region``, number of bins in it), over the batch."""
    region = region.to(mask.dtype)
    return float((mask * region).sum()), float(region.sum())


def _detached(output):
    """A task's output (a tensor, or a tuple of them) cut from the graph."""
    if isinstance(output, (tuple, list)):
        return type(output)(_detached(o) for o in output)
    return output.detach() if torch.is_tensor(output) else output


@torch.no_grad()
def generator_report(stft, recognizer, task, generator, dataset, noise_bank, snr_db=-12.5,
                     batch_size=256, seed=0, device="cpu", sensitivity_snrs=SENSITIVITY_SNRS,
                     generator_stft=None):
    """What ``generator`` learned against ``recognizer`` on ``dataset``.

    Returns, with noise of ``noise_bank`` at ``snr_db`` (unmasked) and the
    same draws for every condition:

    * ``mean_mask``, ``mask_speech``, ``mask_other``: the mean noise mask
      over all real bins, over the speech bins and over the others
      (``speech_share``: the speech bins' share of the real bins);
    * ``noise_energy_share``: the share of the unmasked noise energy the
      mask lets through;
    * ``acc_clean``, ``acc_unmasked_noise``, ``acc_masked_noise``: the share
      (%) of utterances the recognizer gets wholly right (no token error);
    * ``sensitivity``: ``{"<snr>": {"speech": error %, "other": error %}}``, the
      recognizer's error with the noise at ``snr`` placed on the speech bins
      only and on the other bins only (the same gain for both);
    * ``loss_gradient``: ``{"speech": g, "other": g}``, the mean over each
      region's bins of d(loss per utterance) / d(mask), at the all-ones mask
      and ``snr_db`` (a range: the unmasked condition's draws).

    ``generator=None`` measures only the recognizer (accuracies and
    sensitivity). ``generator_stft``: the front-end the generator reads, when
    it is not the recognizer's (the same STFT, another dB floor: the authors'
    generator beside a recognizer of the stable front-end)."""
    stft = stft.to(device)
    recognizer = recognizer.to(device).eval()
    modules = torch.nn.ModuleDict({"recognizer": recognizer})
    mixers = {}
    ones = GivenMask()  # all ones, a leaf: plain noise and the loss's gradient in one pass
    plain = NoiseMixer(noise_bank, snr_db, ones)
    if generator is not None:
        learned = LearnedMask(generator.to(device).eval())
        gen_stft = (generator_stft or stft).to(device)
        given = GivenMask()  # the generator's mask of each batch, read on its own front-end
        mixers["masked"] = NoiseMixer(noise_bank, snr_db, given)
    correct = dict.fromkeys(["clean", "unmasked", *mixers], 0)
    wrong = {f"{snr:g}": {"speech": 0, "other": 0} for snr in sensitivity_snrs}
    sums = dict.fromkeys(["all", "all_n", "speech", "speech_n", "other", "other_n"], 0.0)
    energy_kept = energy_all = 0.0
    grads = dict.fromkeys(["speech", "speech_n", "other", "other_n"], 0.0)
    total = 0

    def num_right(output, batch):
        hyps = task.hypotheses(output)
        return sum(h == r for h, r in zip(hyps, task.references(batch)))

    def output(spec_db, frame_mask):
        return task.forward(modules, spec_db, frame_mask)

    loader = sb.dataio.dataloader.make_dataloader(dataset, batch_size=batch_size)
    for i, batch in enumerate(loader):
        batch = batch.to(device)
        wavs, lens = batch.sig
        spec = stft(wavs)
        spec_db = stft.db(spec)
        frame_mask = stft.frame_mask(lens, spec.shape[-1])
        if generator is not None:
            given.mask = learned(gen_stft.db(spec))
        speech, other = regions(spec, frame_mask)
        num = len(batch.id)
        correct["clean"] += num_right(output(spec_db, frame_mask), batch)
        with torch.enable_grad():
            ones.mask = torch.ones_like(spec_db, requires_grad=True)
            noisy, _ = plain(stft, spec, spec_db, frame_mask, torch.Generator(device).manual_seed(seed + i))
            out = output(stft.db(noisy), frame_mask)
            (grad,) = torch.autograd.grad(task.loss(out, batch) * num, ones.mask)
        correct["unmasked"] += num_right(_detached(out), batch)
        energy_all += (noisy.detach() - spec).abs().square().sum().item()
        for region, key in ((speech, "speech"), (other, "other")):
            s, n = _region_sums(grad, region)
            grads[key] += s
            grads[key + "_n"] += n
        for name, mixer in mixers.items():  # the same draws as the plain noise
            noisy, mask = mixer(stft, spec, spec_db, frame_mask, torch.Generator(device).manual_seed(seed + i))
            correct[name] += num_right(output(stft.db(noisy), frame_mask), batch)
            for region, key in ((other | speech, "all"), (speech, "speech"), (other, "other")):
                s, n = _region_sums(mask, region)
                sums[key] += s
                sums[key + "_n"] += n
            energy_kept += (noisy - spec).abs().square().sum().item()
        rng = torch.Generator(device).manual_seed(seed + i)
        noise = stft(noise_bank.to(device).sample(num, (spec.shape[-1] - 1) * stft.hop_length, rng))
        for snr in sensitivity_snrs:
            gain = snr_gain(spec, noise, snr, frame_mask)
            for region, key in ((speech, "speech"), (other, "other")):
                noisy = spec + gain * region.to(spec_db.dtype) * noise
                wrong[f"{snr:g}"][key] += num - num_right(output(stft.db(noisy), frame_mask), batch)
        total += num
    report = {
        "acc_clean": 100.0 * correct["clean"] / total,
        "acc_unmasked_noise": 100.0 * correct["unmasked"] / total,
        "sensitivity": {snr: {k: 100.0 * v / total for k, v in w.items()} for snr, w in wrong.items()},
        "loss_gradient": {k: grads[k] / max(grads[k + "_n"], 1.0) for k in ("speech", "other")},
        "num_utts": total,
    }
    if generator is not None:
        report.update({
            "mean_mask": sums["all"] / sums["all_n"],
            "mask_speech": sums["speech"] / max(sums["speech_n"], 1.0),
            "mask_other": sums["other"] / max(sums["other_n"], 1.0),
            "speech_share": sums["speech_n"] / sums["all_n"],
            "noise_energy_share": energy_kept / energy_all,
            "acc_masked_noise": 100.0 * correct["masked"] / total,
        })
    return report


def protects_speech(report, margin=0.01):
    """Whether the generator's mean mask is at least ``margin`` lower on the
    speech bins than elsewhere (ImportantAug's premise)."""
    return report["mask_other"] - report["mask_speech"] >= margin


def diagnostic_lines(report):
    """Plain-text lines of a report's mask placement and sensitivity."""
    lines = []
    if "mask_speech" in report:
        if protects_speech(report):
            direction = "protects the speech"
        elif protects_speech({"mask_other": report["mask_speech"], "mask_speech": report["mask_other"]}):
            direction = "puts MORE noise on the speech than elsewhere: the recognizer reads its words elsewhere"
        else:
            direction = "tells the speech from the rest by less than 0.01"
        lines.append(f"mean noise mask: {report['mask_speech']:.3f} on the speech bins "
                     f"({100 * report['speech_share']:.1f} % of bins), {report['mask_other']:.3f} "
                     f"elsewhere ({direction})")
    lines.append(f"recognizer error: clean {100 - report['acc_clean']:.1f} %; " + "; ".join(
        f"noise at {snr} dB on the speech bins only {w['speech']:.1f} %, on the others only "
        f"{w['other']:.1f} %" for snr, w in report["sensitivity"].items()))
    if "loss_gradient" in report:
        g = report["loss_gradient"]
        lean = "the speech" if g["speech"] > g["other"] else "the rest"
        lines.append(f"d loss / d mask at plain noise: {g['speech']:.2e} per speech bin, "
                     f"{g['other']:.2e} per other bin (stage A starts by protecting {lean})")
    return lines
