"""The generator's objective.

L = w_task * task_loss - w_mask * mean(log m)
    + w_freq * mean|m[f+1] - m[f]| + w_time * mean|m[t+1] - m[t]|

The task term keeps the frozen recognizer right, the log term pushes the mask
towards 1 (more noise), the last two keep it smooth. With a ``frame_mask``
every mask term averages over real (unpadded) frames only.
"""

import torch


def importance_loss(task_loss, mask, frame_mask=None, w_task=1.0, w_mask=3.0,
                    w_freq=3.0, w_time=3.0):
    """Return (total loss, dict of the four unweighted terms)."""
    if frame_mask is None:
        frame_mask = mask.new_ones(mask.shape[0], mask.shape[2])
    mask_mean, freq_mean, time_mean = _MaskTerms.apply(mask, frame_mask)
    total = w_task * task_loss - w_mask * mask_mean + w_freq * freq_mean + w_time * time_mean
    terms = {"task": task_loss, "log_mask": mask_mean, "freq_tv": freq_mean, "time_tv": time_mean}
    return total, {k: v.detach() for k, v in terms.items()}


class _MaskTerms(torch.autograd.Function):
    """The three mask terms of [B, F, T] ``mask`` over the real frames of
    ``frame_mask`` [B, T]: mean log m, mean |m[f+1] - m[f]|, mean
    |m[t+1] - m[t]|. Their gradient is summed into one buffer, in a third of
    the passes (and none of the zero-filled slice gradients) that autograd
    takes through the slices, logs and absolute values."""

    @staticmethod
    def forward(ctx, mask, frame_mask):
        # padded frames may hold m = 0 (the mixer zeroes them): log(0) would
        # make the loss and its gradient NaN even at weight 0; there m + 1
        # (a real frame's m is unchanged) keeps it finite
        mask = mask + (1.0 - frame_mask)[:, None, :]
        d_freq = mask[:, 1:, :] - mask[:, :-1, :]
        d_time = mask[:, :, 1:] - mask[:, :, :-1]
        pair_mask = frame_mask[:, 1:] * frame_mask[:, :-1]
        ctx.save_for_backward(mask, frame_mask, d_freq, d_time, pair_mask)
        return (masked_mean(torch.log(mask), frame_mask), masked_mean(d_freq.abs(), frame_mask),
                masked_mean(d_time.abs(), pair_mask))

    @staticmethod
    def backward(ctx, grad_log, grad_freq, grad_time):
        mask, frame_mask, d_freq, d_time, pair_mask = ctx.saved_tensors
        bins = mask.shape[1]
        # each term's d mean / d value: the frame's weight over the count
        log_w = frame_mask * (grad_log / (frame_mask.sum() * bins))
        freq_w = frame_mask * (grad_freq / (frame_mask.sum() * (bins - 1)))
        time_w = pair_mask * (grad_time / (pair_mask.sum() * bins))
        grad = log_w[:, None, :] / mask
        step = d_freq.sign().mul_(freq_w[:, None, :])  # |d|' = sign(d), 0 at 0 as abs's
        grad[:, 1:, :] += step
        grad[:, :-1, :] -= step
        step = d_time.sign().mul_(time_w[:, None, :])
        grad[:, :, 1:] += step
        grad[:, :, :-1] -= step
        return grad, None


def masked_mean(values, frame_mask):
    """Mean of [B, F, T] ``values`` over every bin of the frames ``frame_mask``
    [B, T] keeps: each frame's sum over bins first, a pass over B x T, not
    over a B x F x T product."""
    return (values.sum(1) * frame_mask).sum() / (frame_mask.sum() * values.shape[1])
