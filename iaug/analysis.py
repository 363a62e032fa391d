"""What a generator learned, measured against a frozen recognizer of any task."""

import torch
import speechbrain as sb

from iaug.mixing import NoiseMixer
from iaug.policies import AllOnes, LearnedMask


@torch.no_grad()
def generator_report(stft, recognizer, task, generator, dataset, noise_bank, snr_db=-12.5,
                     batch_size=256, seed=0, device="cpu"):
    """Mean mask, share of the noise energy the mask lets through, and the
    share (%) of utterances the recognizer gets wholly right (no token error)
    on clean input, under unmasked noise and under masked noise at the same
    gain and with the same noise draws."""
    stft = stft.to(device)
    recognizer, generator = recognizer.to(device).eval(), generator.to(device).eval()
    modules = torch.nn.ModuleDict({"recognizer": recognizer})
    mixers = {"unmasked": NoiseMixer(noise_bank, snr_db, AllOnes()),
              "masked": NoiseMixer(noise_bank, snr_db, LearnedMask(generator))}
    correct = {"clean": 0, "unmasked": 0, "masked": 0}
    mask_sum = energy_kept = energy_all = 0.0
    total = 0

    def num_right(spec_db, frame_mask, batch):
        hyps = task.hypotheses(task.forward(modules, spec_db, frame_mask))
        return sum(h == r for h, r in zip(hyps, task.references(batch)))

    loader = sb.dataio.dataloader.make_dataloader(dataset, batch_size=batch_size)
    for i, batch in enumerate(loader):
        batch = batch.to(device)
        wavs, lens = batch.sig
        spec = stft(wavs)
        spec_db = stft.db(spec)
        frame_mask = stft.frame_mask(lens, spec.shape[-1])
        correct["clean"] += num_right(spec_db, frame_mask, batch)
        for name, mixer in mixers.items():
            rng = torch.Generator(device).manual_seed(seed + i)
            noisy, mask = mixer(stft, spec, spec_db, frame_mask, rng)
            correct[name] += num_right(stft.db(noisy), frame_mask, batch)
            added = (noisy - spec).abs().square().sum().item()
            if name == "masked":
                mask_sum += mask.mean(dim=(1, 2)).sum().item()
                energy_kept += added
            else:
                energy_all += added
        total += len(batch.id)
    return {
        "mean_mask": mask_sum / total,
        "noise_energy_share": energy_kept / energy_all,
        "acc_clean": 100.0 * correct["clean"] / total,
        "acc_unmasked_noise": 100.0 * correct["unmasked"] / total,
        "acc_masked_noise": 100.0 * correct["masked"] / total,
        "num_utts": total,
    }
