"""The authors' trained checkpoint, behind a small inference object."""

import torch

from iaug.data.gsc import GSC_LABELS
from iaug.features import STFT
from iaug.models import MaskGenerator, Recognizer


class ReferenceModel(torch.nn.Module):
    """Recognizer and generator of a checkpoint in the authors' format."""

    def __init__(self, recognizer, generator, labels):
        super().__init__()
        self.stft = STFT()
        self.recognizer = recognizer
        self.generator = generator
        self.labels = list(labels)

    @torch.no_grad()
    def log_probs(self, wavs):
        """[B, samples] at 16 kHz -> [B, num_classes] log-probabilities."""
        return self.recognizer(self.stft.db(self.stft(wavs)))

    @torch.no_grad()
    def noise_mask(self, wavs):
        """[B, samples] -> [B, 257, frames] noise mask (1 - importance)."""
        return self.generator(self.stft.db(self.stft(wavs)))


def split_reference_state(state):
    """Authors' ``model_state_dict`` -> (recognizer state, generator state)."""
    rec = {k[len("classifier."):]: v for k, v in state.items() if k.startswith("classifier.")}
    gen = {k[len("gen."):]: v for k, v in state.items() if k.startswith("gen.")}
    if not rec or not gen:
        raise ValueError(
            "not an ImportantAug checkpoint: expected 'classifier.*' and 'gen.*' keys"
        )
    return rec, gen


def load_reference_checkpoint(path, labels=GSC_LABELS):
    """Load ``importantaug_clf_frozen.pt`` (or any checkpoint of that format)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    rec_state, gen_state = split_reference_state(ckpt.get("model_state_dict", ckpt))
    recognizer = Recognizer(num_classes=rec_state["linear3.weight"].shape[0])
    recognizer.load_state_dict(rec_state)
    generator = MaskGenerator()
    generator.load_state_dict(gen_state)
    return ReferenceModel(recognizer, generator, labels).eval()
