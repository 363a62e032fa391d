"""Speech recognition with CTC as an ImportantAug task.

The recognizer (:class:`iaug.models.CTCRecognizer`) reads the same dB
magnitude of the complex STFT as the keyword spotter, so noise is mixed in the
STFT domain exactly as for keyword spotting; the objective is CTC, the score
WER with greedy decoding. The loss takes integer lengths counted from the
frame mask, so an utterance's loss does not depend on its batch's padding.
"""

import torch
from torch import nn
from speechbrain.decoders.ctc import filter_ctc_output

from iaug.tasks.base import Task, add_text_item, relative_to_lengths


class CTCRecognition(Task):
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

    metric_name = "WER"
    sort_key = "duration"  # batches of similar lengths: little padding

    def __init__(self, tokenizer, blank_index=0, text_column="wrd"):
        self.tokenizer = tokenizer
        self.sp = getattr(tokenizer, "sp", tokenizer)
        self.blank_index = blank_index
        self.text_column = text_column

    def loss(self, predictions, batch):
        """CTC loss, each utterance's divided by its target length, batch mean."""
        log_probs, out_lens = predictions
        tokens, token_lens = batch.tokens
        token_lens = relative_to_lengths(token_lens, tokens.shape[1])
        return nn.functional.ctc_loss(
            log_probs.transpose(0, 1), tokens, out_lens, token_lens,
            blank=self.blank_index, reduction="mean", zero_infinity=True)

    def hypotheses(self, predictions):
        """Greedy CTC decoding -> list of word lists.

        SpeechBrain's ``ctc_greedy_decode``, for the whole batch on its
        device and then one copy to the host (not two per utterance)."""
        log_probs, out_lens = predictions
        lengths = out_lens.long()
        best = torch.max(log_probs.detach(), dim=-1).indices
        rows = torch.cat((lengths[:, None].to(best.device), best), dim=1).tolist()
        return [self.sp.decode_ids(filter_ctc_output(row[1:1 + row[0]], self.blank_index)).split()
                for row in rows]

    def references(self, batch):
        return [text.split() for text in getattr(batch, self.text_column)]

    def add_target_pipeline(self, datasets):
        """Adds ``tokens`` (LongTensor) from the transcript column; the
        transcript itself is output too (for WER)."""
        add_text_item(datasets, self.text_column, "tokens",
                      lambda text: torch.LongTensor(self.sp.encode_as_ids(text)))
        return [self.text_column, "tokens"]
