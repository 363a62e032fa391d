"""What a generator learned, measured against a frozen recognizer."""

import torch
import speechbrain as sb

from iaug.mixing import NoiseMixer
from iaug.policies import AllOnes, LearnedMask


@torch.no_grad()
def generator_report(recognizer, generator, dataset, noise_bank, snr_db=-12.5,
                     batch_size=256, seed=0, device="cpu"):
    """Mean mask, share of the noise energy the mask lets through, and the
    recognizer's accuracy (%) on clean input, under unmasked noise and under
    masked noise at the same gain and with the same noise draws."""
    from iaug.features import STFT

    stft = STFT().to(device)
    recognizer, generator = recognizer.to(device).eval(), generator.to(device).eval()
    mixers = {"unmasked": NoiseMixer(noise_bank, snr_db, AllOnes()),
              "masked": NoiseMixer(noise_bank, snr_db, LearnedMask(generator))}
    correct = {"clean": 0, "unmasked": 0, "masked": 0}
    mask_sum = energy_kept = energy_all = 0.0
    total = 0
    loader = sb.dataio.dataloader.make_dataloader(dataset, batch_size=batch_size)
    for i, batch in enumerate(loader):
        batch = batch.to(device)
        wavs, lens = batch.sig
        spec = stft(wavs)
        spec_db = stft.db(spec)
        frame_mask = stft.frame_mask(lens, spec.shape[-1])
        labels = batch.label_id
        correct["clean"] += (recognizer(spec_db, frame_mask).argmax(-1) == labels).sum().item()
        for name, mixer in mixers.items():
            rng = torch.Generator(device).manual_seed(seed + i)
            noisy, mask = mixer(stft, spec, spec_db, frame_mask, rng)
            correct[name] += (recognizer(stft.db(noisy), frame_mask).argmax(-1) == labels).sum().item()
            if name == "masked":
                added = (noisy - spec).abs().square().sum().item()
                mask_sum += mask.mean(dim=(1, 2)).sum().item()
                energy_kept += added
            else:
                energy_all += (noisy - spec).abs().square().sum().item()
        total += len(labels)
    return {
        "mean_mask": mask_sum / total,
        "noise_energy_share": energy_kept / energy_all,
        "acc_clean": 100.0 * correct["clean"] / total,
        "acc_unmasked_noise": 100.0 * correct["unmasked"] / total,
        "acc_masked_noise": 100.0 * correct["masked"] / total,
        "num_utts": total,
    }
