"""CTC speech recognition as an ImportantAug task.

The brains of :mod:`iaug.brains` train a recognizer or a generator for any
task object. :class:`CTCRecognition` is the speech-recognition task: the
recognizer reads the same dB magnitude of the complex STFT as the keyword
spotter (so noise is mixed in the STFT domain exactly as for keyword
spotting), turns it into log-mel features, and emits per-frame token
log-probabilities; the objective is CTC, the score WER with greedy decoding.

Every step is *padding-exact*: with a ``frame_mask`` of the real frames, the
outputs, lengths and loss of an utterance are the same whatever (and however
much) padding its batch adds. Inputs and hidden activations of padded frames
are zeroed between layers (a convolution then sees at a padded frame what it
sees past the end of an unpadded utterance), the RNN runs on packed
sequences, normalisation is per frame or over real frames, and the CTC loss
takes integer lengths counted from the frame mask. SpeechBrain's ``CRDNN``
lobe runs its RNN over padded frames (no packing), so the model below
rebuilds its shape (CNN -> RNN -> DNN) with that care.
"""

import torch
from torch import nn
import speechbrain as sb
from speechbrain.decoders.ctc import ctc_greedy_decode
from speechbrain.processing.features import Filterbank
from speechbrain.utils.metric_stats import ErrorRateStats


def subsampled_lengths(lengths, factor_log2):
    """Frames left after ``factor_log2`` stride-2 convolutions (kernel 3, padding 1)."""
    for _ in range(factor_log2):
        lengths = (lengths + 1) // 2
    return lengths


def length_mask(lengths, max_len):
    """[B, max_len] float mask of the first ``lengths[b]`` positions."""
    return (torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]).float()


class LogMel(nn.Module):
    """Log-mel features of a dB magnitude spectrogram, normalised per utterance.

    |X|^2 = 10^(dB/10) goes through SpeechBrain's triangular mel
    ``Filterbank``; then 10 log10, floored ``top_db`` below the utterance's
    loudest real bin, and mean and variance normalisation over the
    utterance's real frames. Padded frames come out as zeros. Differentiable
    in the input (the generator learns through it).

    Input [B, F, T] dB and [B, T] frame mask; output [B, T, n_mels].
    """

    def __init__(self, n_mels=40, n_fft=512, sample_rate=16000, top_db=80.0, normalize=True):
        super().__init__()
        self.fbank = Filterbank(n_mels=n_mels, n_fft=n_fft, sample_rate=sample_rate,
                                log_mel=False, freeze=True)
        self.top_db = top_db
        self.normalize = normalize

    def forward(self, spec_db, frame_mask):
        power = torch.pow(10.0, spec_db.transpose(1, 2) / 10.0)
        weights = frame_mask[:, :, None]
        feats = 10.0 * torch.log10(self.fbank(power).clamp(min=1e-10))
        if self.top_db is not None:
            loudest = torch.where(weights > 0, feats, torch.full_like(feats, -1e4))
            floor = loudest.amax(dim=(1, 2), keepdim=True) - self.top_db
            feats = torch.maximum(feats, floor)
        if self.normalize:
            count = weights.sum(1, keepdim=True).clamp(min=1.0)
            mean = (feats * weights).sum(1, keepdim=True) / count
            var = ((feats - mean).square() * weights).sum(1, keepdim=True) / count
            feats = (feats - mean) / torch.sqrt(var + 1e-5)
        return feats * weights


class CTCRecognizer(nn.Module):
    """CRDNN-shaped CTC acoustic model on the [B, F, T] dB spectrogram.

    log-mel -> ``cnn_layers`` x (Conv2d 3x3, stride 2 in time and mel, ReLU)
    -> Linear -> LeakyReLU -> bidirectional GRU (packed) -> Linear ->
    LayerNorm -> LeakyReLU -> Linear -> log-softmax over ``num_tokens``
    (index ``blank_index`` of the task is CTC's blank).

    ``forward(spec_db, frame_mask)`` returns ``(log_probs [B, T', V],
    lengths [B])``, ``T' = T / 2**cnn_layers`` rounded up, lengths in frames.
    """

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
            x = x * length_mask(subsampled_lengths(lengths, i + 1), x.shape[2])[:, None, :, None]
        lengths = subsampled_lengths(lengths, len(self.convs))
        x = x.permute(0, 2, 1, 3).flatten(2)  # [B, T', C * M']
        x = self.dropout(nn.functional.leaky_relu(self.proj(x)))
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        # cuDNN cannot backpropagate through an RNN in eval mode, which is
        # what training the generator against the frozen recognizer does
        cudnn_ok = self.training or not torch.is_grad_enabled()
        with torch.backends.cudnn.flags(enabled=cudnn_ok and torch.backends.cudnn.enabled):
            out = self.rnn(packed)[0]
        x, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        x = self.dnn(x)
        return torch.log_softmax(self.out(x), dim=-1), lengths


class CTCRecognition:
    """Speech recognition with CTC over sentencepiece tokens.

    Arguments
    ---------
    tokenizer : speechbrain.tokenizers.SentencePiece.SentencePiece
        SpeechBrain's sentencepiece wrapper (``.sp`` is the processor).
    blank_index : int
        CTC blank; 0 shares the index of sentencepiece's ``<unk>``, as in
        SpeechBrain's LibriSpeech CTC recipes (``<unk>`` never occurs in
        targets with full character coverage).
    text_column : str
        Manifest column holding the transcript (words separated by spaces).
    """

    def __init__(self, tokenizer, blank_index=0, text_column="wrd"):
        self.tokenizer = tokenizer
        self.sp = getattr(tokenizer, "sp", tokenizer)
        self.blank_index = blank_index
        self.text_column = text_column

    def forward(self, modules, spec_db, frame_mask):
        return modules.recognizer(spec_db, frame_mask)

    def loss(self, predictions, batch):
        """CTC loss, each utterance's divided by its target length, batch mean."""
        log_probs, out_lens = predictions
        tokens, token_lens = batch.tokens
        token_lens = torch.round(token_lens * tokens.shape[1]).long()
        return nn.functional.ctc_loss(
            log_probs.transpose(0, 1), tokens, out_lens, token_lens,
            blank=self.blank_index, reduction="mean", zero_infinity=True)

    def decode(self, predictions):
        """Greedy CTC decoding -> list of word lists."""
        log_probs, out_lens = predictions
        rel = out_lens.float() / log_probs.shape[1]
        sequences = ctc_greedy_decode(log_probs.detach(), rel, blank_id=self.blank_index)
        return [self.sp.decode_ids(seq).split() for seq in sequences]

    def new_stats(self):
        return ErrorRateStats()

    def append_stats(self, stats, predictions, batch):
        refs = [text.split() for text in getattr(batch, self.text_column)]
        stats.append(batch.id, self.decode(predictions), refs)

    def add_target_pipeline(self, datasets):
        """Adds ``tokens`` (LongTensor) from the transcript column; the
        transcript itself is output too (for WER)."""
        column = self.text_column

        @sb.utils.data_pipeline.takes(column)
        @sb.utils.data_pipeline.provides("tokens")
        def token_pipeline(text):
            return torch.LongTensor(self.sp.encode_as_ids(text))

        sb.dataio.dataset.add_dynamic_item(datasets, token_pipeline)
        return [column, "tokens"]
