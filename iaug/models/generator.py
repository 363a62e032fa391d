"""The importance-map generator of ImportantAug ("augmentation agent").

Parameter names follow the authors' code so that their checkpoint loads
unchanged (see :func:`iaug.checkpoints.load_state`).
"""

import torch
from torch import nn


class MaskGenerator(nn.Module):
    """Importance-map generator ("MaskGen_CNN2"): noise mask in (0, 1).

    Four 5x5 convolutions over the [B, F, T] dB spectrogram; fully
    convolutional, so it accepts any number of frames. Importance = 1 - mask.

    With ``mask_padding=True`` and a [B, T] ``frame_mask`` (variable-length
    batches, e.g. speech recognition), the input and every hidden layer are
    zeroed on padded frames, so a real frame's mask is exactly the one of the
    utterance run alone: padding neither leaks in nor depends on the batch.
    The default (False) keeps the reference behaviour.
    """

    def __init__(self, channels=2, kernel_size=5, mask_padding=False):
        super().__init__()
        pad = kernel_size // 2
        self.mask_padding = mask_padding
        self.conv1 = nn.Conv2d(1, channels, kernel_size, padding=pad)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size, padding=pad)
        self.conv3 = nn.Conv2d(channels, channels, kernel_size, padding=pad)
        self.conv4 = nn.Conv2d(channels, 1, kernel_size, padding=pad)

    def forward(self, spec_db, frame_mask=None):
        keep = (lambda x: x * frame_mask[:, None, None, :]) \
            if self.mask_padding and frame_mask is not None else (lambda x: x)
        x = keep(spec_db.unsqueeze(1))
        x = keep(torch.relu(self._conv(self.conv1, x)))
        x = keep(torch.relu(self._conv(self.conv2, x)))
        x = keep(torch.relu(self._conv(self.conv3, x)))
        return torch.sigmoid(self._conv(self.conv4, x)).squeeze(1)

    @staticmethod
    def _conv(layer, x):
        """``layer(x)``; on the CPU in channels-last layout, several times
        faster for these few-channel convolutions (same result to ~1e-7).
        A one-channel input gets a zero second channel (and its weights a
        zero slice): oneDNN's one-channel path is about 3x slower than its
        two-channel one, and the zeros add nothing."""
        if x.device.type != "cpu":
            return layer(x)
        weight = layer.weight
        if x.shape[1] == 1:
            x = torch.cat([x, torch.zeros_like(x)], 1)
            weight = torch.cat([weight, torch.zeros_like(weight)], 1)
        fmt = torch.channels_last
        return nn.functional.conv2d(x.contiguous(memory_format=fmt),
                                    weight.contiguous(memory_format=fmt), layer.bias,
                                    layer.stride, layer.padding, layer.dilation, layer.groups)
