"""Recognizers: the networks a task trains and scores.

Each says what it reads in ``reads``: ``"spectrogram"`` (the [B, F, T] dB
magnitude of :class:`iaug.models.STFT` and a [B, T] real-frame mask; noise
can then be mixed in the STFT domain by :class:`iaug.mixing.NoiseMixer`) or
``"waveform"`` ([B, samples] and SpeechBrain relative lengths; the recognizer
computes its own features, and training noise comes from a waveform
augmenter such as :class:`iaug.augment.ImportantAug`).

:class:`Recognizer` is the paper's keyword classifier with its exact shapes;
parameter names follow the authors' code so that their checkpoint loads
unchanged (see :func:`iaug.checkpoints.load_state`).
"""

import torch
from speechbrain.dataio.dataio import length_to_mask
from torch import nn

from iaug.models.frontends import LogMel


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


class SentenceNorm(nn.Module):
    """Every bin of each utterance to zero mean and unit variance over its
    real frames: [B, F, T] and a [B, T] frame mask (None: all frames real).

    Not SpeechBrain's ``InputNormalization(norm_type="sentence")``: its
    standard deviation is ``max(sqrt(var), 1e-10)``, whose gradient is
    infinite on a bin that is constant over time (NaN losses when a
    generator is trained through it: measured on the demo corpus, whose
    telephone-band and 8 kHz clips have whole bins at the ``top_db`` floor),
    and it divides such a bin's rounding residue by 1e-10. Here the variance
    gets ``eps`` (dB squared) before the square root, as in layer norm.
    ``std=False``: the mean only.
    """

    def __init__(self, eps=1e-5, std=True):
        super().__init__()
        self.eps = eps
        self.std = std

    def forward(self, x, frame_mask=None):
        if frame_mask is None:
            frame_mask = torch.ones_like(x[:, 0])
        m = frame_mask[:, None, :]
        n = m.sum(-1, keepdim=True)
        mean = (x * m).sum(-1, keepdim=True) / n
        if not self.std:
            return x - mean
        var = ((x - mean) * m).square().sum(-1, keepdim=True) / n
        return (x - mean) / torch.sqrt(var + self.eps)


class Recognizer(nn.Module):
    """Keyword classifier ("Classifier_CNN") on a [B, F, T] dB spectrogram.

    Frequency bins are the channels; five residual separable blocks, global
    average pooling over time (over real frames when ``frame_mask`` is given),
    then three linear layers. Returns log-probabilities [B, num_classes].

    ``normalize=True`` first normalises each utterance's input, every bin to
    zero mean and unit variance over its real frames (:class:`SentenceNorm`);
    ``"mean"`` only removes each bin's mean (a bin that barely moves stays
    near 0 instead of being scaled up to unit variance); the paper reads raw
    dB (False).
    """

    reads = "spectrogram"

    def __init__(self, n_bins=257, num_classes=35, num_blocks=5, kernel_size=9,
                 block_dropout=0.0, dropout=0.0, normalize=False):
        super().__init__()
        if normalize not in (False, True, "mean"):
            raise ValueError(f"normalize: False, True or 'mean', not {normalize!r}")
        self.norm = SentenceNorm(std=normalize is True) if normalize else None
        self.convs = nn.ModuleList(
            SeparableResBlock(n_bins, kernel_size, block_dropout) for _ in range(num_blocks)
        )
        self.linear1 = nn.Linear(n_bins, n_bins)
        self.linear2 = nn.Linear(n_bins, n_bins)
        self.dropout = nn.Dropout(dropout)
        self.linear3 = nn.Linear(n_bins, num_classes)

    def forward(self, spec_db, frame_mask=None):
        x = spec_db
        if self.norm is not None:
            x = self.norm(x, frame_mask)
        for block in self.convs:
            x = block(x)
        if frame_mask is None:
            x = x.mean(dim=-1)
        else:
            x = (x * frame_mask[:, None, :]).sum(-1) / frame_mask.sum(-1, keepdim=True)
        x = torch.selu(self.linear1(x))
        x = self.dropout(torch.selu(self.linear2(x)))
        return torch.log_softmax(self.linear3(x), dim=-1)


def subsampled_lengths(lengths, factor_log2):
    """Frames left after ``factor_log2`` stride-2 convolutions (kernel 3, padding 1)."""
    for _ in range(factor_log2):
        lengths = (lengths + 1) // 2
    return lengths


class CTCRecognizer(nn.Module):
    """CRDNN-shaped CTC acoustic model on the [B, F, T] dB spectrogram.

    log-mel -> ``cnn_layers`` x (Conv2d 3x3, stride 2 in time and mel, ReLU)
    -> Linear -> LeakyReLU -> bidirectional GRU (packed) -> Linear ->
    LayerNorm -> LeakyReLU -> Linear -> log-softmax over ``num_tokens``
    (index ``blank_index`` of the task is CTC's blank).

    ``forward(spec_db, frame_mask)`` returns ``(log_probs [B, T', V],
    lengths [B])``, ``T' = T / 2**cnn_layers`` rounded up, lengths in frames.

    Every step is *padding-exact*: with a ``frame_mask`` of the real frames,
    the outputs and lengths of an utterance are the same whatever padding its
    batch adds. Hidden activations of padded frames are zeroed between
    layers (a convolution then sees at a padded frame what it sees past the
    end of an unpadded utterance), the RNN runs on packed sequences and
    normalisation is per frame or over real frames. SpeechBrain's ``CRDNN``
    lobe runs its RNN over padded frames (no packing), hence this model.
    """

    reads = "spectrogram"

    def __init__(self, num_tokens, n_mels=40, n_fft=512, sample_rate=16000,
                 cnn_layers=2, cnn_channels=32, proj_dim=256, rnn_layers=2,
                 rnn_neurons=192, dnn_neurons=256, dropout=0.15):
        super().__init__()
        self.features = LogMel(n_mels, n_fft, sample_rate)
        self.cnn_layers = cnn_layers
        convs, channels, mels = [], 1, n_mels
        for _ in range(cnn_layers):
            convs.append(nn.Conv2d(channels, cnn_channels, 3, stride=2, padding=1))
            channels, mels = cnn_channels, (mels + 1) // 2
        self.convs = nn.ModuleList(convs)
        self.proj = nn.Linear(channels * mels, proj_dim)
        self.rnn = nn.GRU(proj_dim, rnn_neurons, num_layers=rnn_layers, batch_first=True,
                          bidirectional=True, dropout=dropout if rnn_layers > 1 else 0.0)
        self.dnn = nn.Sequential(
            nn.Linear(2 * rnn_neurons, dnn_neurons), nn.LayerNorm(dnn_neurons),
            nn.LeakyReLU(), nn.Dropout(dropout))
        self.out = nn.Linear(dnn_neurons, num_tokens)
        self.dropout = nn.Dropout(dropout)

    def forward(self, spec_db, frame_mask=None):
        if frame_mask is None:
            frame_mask = spec_db.new_ones(spec_db.shape[0], spec_db.shape[-1])
        lengths = frame_mask.sum(-1).round().long()
        x = self.features(spec_db, frame_mask).unsqueeze(1)  # [B, 1, T, M]
        for i, conv in enumerate(self.convs):
            x = torch.relu(conv(x))
            keep = length_to_mask(subsampled_lengths(lengths, i + 1), x.shape[2], dtype=x.dtype)
            x = x * keep[:, None, :, None]
        lengths = subsampled_lengths(lengths, len(self.convs))
        x = x.permute(0, 2, 1, 3).flatten(2)  # [B, T', C * M']
        x = self.dropout(nn.functional.leaky_relu(self.proj(x)))
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        # cuDNN cannot backpropagate through an RNN in eval mode, which is
        # what training the generator against the frozen recognizer does
        cudnn_ok = self.training or not torch.is_grad_enabled()
        with cudnn_enabled(cudnn_ok and torch.backends.cudnn.enabled):
            out = self.rnn(packed)[0]
        x, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        x = self.dnn(x)
        return torch.log_softmax(self.out(x), dim=-1), lengths


class FeatureClassifier(nn.Module):
    """A classifier on its own waveform features, e.g. SpeechBrain's
    x-vector lobes: ``classifier(embedding_model(normalize(features(wav))))``.

    Arguments
    ---------
    features : torch.nn.Module
        Waveform -> [B, T, D] features (``speechbrain.lobes.features.Fbank``).
    normalize : torch.nn.Module
        ``normalize(feats, lens)`` (``InputNormalization``); no saved statistics.
    embedding_model : torch.nn.Module
        ``embedding_model(feats, lens)`` -> [B, 1, E].
    classifier : torch.nn.Module
        [B, 1, E] -> [B, 1, classes] log-probabilities.
    """

    reads = "waveform"

    def __init__(self, features, normalize, embedding_model, classifier):
        super().__init__()
        self.features = features
        self.normalize = normalize
        self.embedding_model = embedding_model
        self.classifier = classifier

    def forward(self, wavs, lens=None):
        feats = self.normalize(self.features(wavs), lens)
        return self.classifier(self.embedding_model(feats, lens)).squeeze(1)


def cudnn_enabled(enabled):
    """``torch.backends.cudnn.flags`` that changes ``enabled`` only: its
    other arguments have defaults that would reset the caller's
    ``benchmark``, ``deterministic`` and TF32 settings for the block."""
    # None leaves a setting as it is (torch.backends.cudnn.set_flags)
    return torch.backends.cudnn.flags(enabled=enabled, benchmark=None, benchmark_limit=None,
                                      deterministic=None, allow_tf32=None, fp32_precision=None)
