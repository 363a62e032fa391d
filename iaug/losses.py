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
    if frame_mask is not None:
        # padded frames may hold m = 0 (the mixer zeroes them): log(0) would
        # make the loss and its gradient NaN even at weight 0; there m + 1
        # (a real frame's m is unchanged) keeps it finite
        mask = mask + (1.0 - frame_mask)[:, None, :]
    log_m = torch.log(mask)
    d_freq = (mask[:, 1:, :] - mask[:, :-1, :]).abs()
    d_time = (mask[:, :, 1:] - mask[:, :, :-1]).abs()
    if frame_mask is None:
        mask_mean, freq_mean, time_mean = log_m.mean(), d_freq.mean(), d_time.mean()
    else:
        pair_mask = frame_mask[:, 1:] * frame_mask[:, :-1]
        mask_mean = masked_mean(log_m, frame_mask)
        freq_mean = masked_mean(d_freq, frame_mask)
        time_mean = masked_mean(d_time, pair_mask)
    total = w_task * task_loss - w_mask * mask_mean + w_freq * freq_mean + w_time * time_mean
    terms = {"task": task_loss, "log_mask": mask_mean, "freq_tv": freq_mean, "time_tv": time_mean}
    return total, {k: v.detach() for k, v in terms.items()}


def masked_mean(values, frame_mask):
    """Mean of [B, F, T] ``values`` over every bin of the frames ``frame_mask``
    [B, T] keeps: each frame's sum over bins first, a pass over B x T, not
    over a B x F x T product."""
    return (values.sum(1) * frame_mask).sum() / (frame_mask.sum() * values.shape[1])
