"""Helpers of the ASR tests: a character tokenizer and text batches."""

import torch
from speechbrain.dataio.batch import PaddedBatch

ALPHABET = " abcdefghijklmnopqrstuvwxyz'"


class CharTokenizer:
    """The two methods of a sentencepiece processor the CTC task uses; id 0 is
    the blank (``<unk>`` in sentencepiece), characters are 1.."""

    vocab_size = len(ALPHABET) + 1

    def encode_as_ids(self, text):
        return [ALPHABET.index(c) + 1 for c in text.lower()]

    def decode_ids(self, ids):
        return "".join(ALPHABET[i - 1] for i in ids if i > 0)


def padded_batch_of_texts(tokenizer, texts):
    """A PaddedBatch with ``id``, ``wrd`` and ``tokens`` (as the task's pipeline)."""
    return PaddedBatch([{"id": f"utt{i}", "wrd": t.upper(),
                         "tokens": torch.LongTensor(tokenizer.encode_as_ids(t))}
                        for i, t in enumerate(texts)])
