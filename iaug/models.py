"""The two networks of ImportantAug, with the paper's exact shapes.

Parameter names follow the authors' code so that their checkpoint loads
unchanged (see :mod:`iaug.pretrained`).
"""

import torch
from torch import nn


class SeparableResBlock(nn.Module):
    """Depthwise conv over time, pointwise conv over bins, SELU, residual."""

    def __init__(self, channels=257, kernel_size=9, dropout=0.0):
        super().__init__()
        self.depthwise = nn.Conv1d(
            channels, channels, kernel_size, padding=kernel_size // 2, groups=channels
        )
        self.pointwise = nn.Conv1d(channels, channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return x + self.dropout(torch.selu(self.pointwise(self.depthwise(x))))


class Recognizer(nn.Module):
    """Keyword classifier ("Classifier_CNN") on a [B, F, T] dB spectrogram.

    Frequency bins are the channels; five residual separable blocks, global
    average pooling over time (over real frames when ``frame_mask`` is given),
    then three linear layers. Returns log-probabilities [B, num_classes].
    """

    def __init__(self, n_bins=257, num_classes=35, num_blocks=5, kernel_size=9,
                 block_dropout=0.0, dropout=0.0):
        super().__init__()
        self.convs = nn.ModuleList(
            SeparableResBlock(n_bins, kernel_size, block_dropout) for _ in range(num_blocks)
        )
        self.linear1 = nn.Linear(n_bins, n_bins)
        self.linear2 = nn.Linear(n_bins, n_bins)
        self.dropout = nn.Dropout(dropout)
        self.linear3 = nn.Linear(n_bins, num_classes)

    def forward(self, spec_db, frame_mask=None):
        x = spec_db
        for block in self.convs:
            x = block(x)
        if frame_mask is None:
            x = x.mean(dim=-1)
        else:
            x = (x * frame_mask[:, None, :]).sum(-1) / frame_mask.sum(-1, keepdim=True)
        x = torch.selu(self.linear1(x))
        x = self.dropout(torch.selu(self.linear2(x)))
        return torch.log_softmax(self.linear3(x), dim=-1)


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
        faster for these few-channel convolutions (same result to ~1e-7)."""
        if x.device.type != "cpu":
            return layer(x)
        fmt = torch.channels_last
        return nn.functional.conv2d(x.contiguous(memory_format=fmt),
                                    layer.weight.contiguous(memory_format=fmt), layer.bias,
                                    layer.stride, layer.padding, layer.dilation, layer.groups)
