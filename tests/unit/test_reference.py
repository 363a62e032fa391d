"""The authors' checkpoint loads into our networks and reproduces their outputs.

Needs `importantaug_clf_frozen.pt` and `reference_outputs.npz` in
$IAUG_REFERENCE_DIR (default ../shared/reference); skipped without them
(see tests/helpers.py: reference_file).
"""

import numpy as np
import pytest
import torch

from helpers import KWS_BASELINE, real_speech_dir, reference_file
from iaug.data.gsc import GSC_LABELS
from iaug.export import export_reference
from iaug.inference import ImportantAugClassifier


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    ckpt = reference_file("importantaug_clf_frozen.pt")
    ref = np.load(reference_file("reference_outputs.npz"))
    folder = export_reference(ckpt, str(tmp_path_factory.mktemp("authors")))
    model = ImportantAugClassifier.from_hparams(source=folder, savedir=folder)
    wavs = torch.from_numpy(ref["waveforms"])
    log_probs = model.classify_batch(wavs)[0].numpy()
    return ref, model.hparams.labels, log_probs, 1.0 - model.importance_batch(wavs).numpy()


def test_labels_are_reference_order(reference):
    ref, labels, _, _ = reference
    assert labels == list(ref["labels"]) == list(GSC_LABELS)


def test_clips_with_a_noise_floor_match_tightly(reference):
    # White noise and near-silence: every bin is well conditioned.
    ref, _, log_probs, mask = reference
    floor = [i for i, w in enumerate(ref["waveforms"]) if not (w == 0).any()]
    assert floor, "reference set has no clip without digital silence"
    np.testing.assert_allclose(log_probs[floor], ref["logprobs"][floor], atol=1e-4, rtol=0)
    np.testing.assert_allclose(mask[floor], ref["noise_mask"][floor], atol=1e-5, rtol=0)


def test_speech_clips_match(reference):
    # espeak-ng words are padded with exact digital silence. Bins next to it
    # hold FFT round-off (|X| ~ 1e-9 -> about -180 dB), which differs between
    # FFT implementations; our own mask moves by ~1 there if the input moves by
    # 1e-9. So: every bin within 1e-3, 99 % of bins within 1e-5, and the
    # log-probabilities within 2e-4 with the same decisions.
    ref, _, log_probs, mask = reference
    np.testing.assert_allclose(log_probs, ref["logprobs"], atol=2e-4, rtol=0)
    assert (log_probs.argmax(1) == ref["logprobs"].argmax(1)).all()
    err = np.abs(mask - ref["noise_mask"])
    assert err.max() < 1e-3
    assert (err <= 1e-5).mean(axis=(1, 2)).min() > 0.99


def test_recognizer_is_a_real_speech_model(reference):
    ref, labels, log_probs, _ = reference
    for word, lp in zip(ref["words"], log_probs):
        if word in labels:
            assert labels[lp.argmax()] == word
    assert np.allclose(np.exp(log_probs).sum(1), 1.0, atol=1e-5)


def test_on_recordings_of_people_the_authors_generator_protects_the_speech(tmp_path):
    """Real speech (the recordings of `real_speech_dir`, one clip in five):
    the authors' recognizer is mostly right, and their generator keeps more
    noise off the speech bins than elsewhere, as the diagnostic measures it."""

    from iaug.analysis import generator_report, protects_speech
    from iaug.dataio import audio_dataset, folder_manifest
    from iaug.evaluate import System
    from iaug.mixing import NoiseBank

    folder = real_speech_dir()
    ckpt = reference_file("importantaug_clf_frozen.pt")
    kws = KWS_BASELINE
    system = System("authors", ckpt, hparams_file=kws, overrides={"data_dir": "unused"},
                    eval_dir=str(tmp_path / "eval")).load_best()
    manifest = folder_manifest(folder, system.task.labels)
    subset = type(manifest)({k: v for i, (k, v) in enumerate(sorted(manifest.items())) if i % 5 == 0})
    noise = torch.Generator().manual_seed(0)
    bank = NoiseBank(0.1 * torch.randn(8, 16000, generator=noise))  # white noise
    from iaug.augment import load_generator

    report = generator_report(system.hparams["stft"], system.brain.modules.recognizer, system.task,
                              load_generator(ckpt), audio_dataset(subset, system.task), bank)
    assert report["num_utts"] == 300
    assert 100 - report["acc_clean"] < 40  # about a quarter wrong
    assert protects_speech(report, margin=0.05), report
