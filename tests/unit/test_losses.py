"""The generator loss against hand-computed values."""

import math

import pytest
import torch

from iaug.losses import importance_loss


def test_each_term_by_hand():
    mask = torch.tensor([[[0.5, 0.25, 1.0],
                          [0.5, 0.5, 0.5]]])  # [B=1, F=2, T=3]
    task = torch.tensor(2.0)
    total, terms = importance_loss(task, mask, w_task=1, w_mask=3, w_freq=3, w_time=3)
    log_mean = (3 * math.log(0.5) + math.log(0.25) + math.log(1.0) + math.log(0.5)) / 6
    freq = (0 + 0.25 + 0.5) / 3        # |m[f+1] - m[f]| over 3 frames
    time = (0.25 + 0.75 + 0 + 0) / 4   # |m[t+1] - m[t]| over 2 bins x 2 pairs
    assert terms["log_mask"].item() == pytest.approx(log_mean)
    assert terms["freq_tv"].item() == pytest.approx(freq)
    assert terms["time_tv"].item() == pytest.approx(time)
    assert total.item() == pytest.approx(2.0 - 3 * log_mean + 3 * freq + 3 * time)


def test_weights_are_applied():
    mask = torch.rand(2, 4, 5) * 0.9 + 0.05
    task = torch.tensor(1.5)
    _, t = importance_loss(task, mask)
    total, _ = importance_loss(task, mask, w_task=2, w_mask=0.5, w_freq=0, w_time=7)
    assert total.item() == pytest.approx(3.0 - 0.5 * t["log_mask"].item() + 7 * t["time_tv"].item(), rel=1e-5)


def test_padded_frames_do_not_count():
    torch.manual_seed(0)
    real = torch.rand(1, 4, 5) * 0.9 + 0.05
    padded = torch.cat([real, torch.rand(1, 4, 3)], dim=2)
    fm = torch.tensor([[1, 1, 1, 1, 1, 0, 0, 0]], dtype=torch.float32)
    a, ta = importance_loss(torch.tensor(1.0), real)
    b, tb = importance_loss(torch.tensor(1.0), padded, frame_mask=fm)
    assert b.item() == pytest.approx(a.item(), rel=1e-6)
    for k in ta:
        assert tb[k].item() == pytest.approx(ta[k].item(), rel=1e-6)


def test_gradient_pushes_mask_up():
    logits = torch.zeros(1, 3, 4, requires_grad=True)
    total, _ = importance_loss(torch.tensor(0.0), torch.sigmoid(logits))
    total.backward()
    assert (logits.grad < 0).all()  # descending raises the mask: more noise


def autograd_terms(mask, frame_mask):
    """The three mask terms written out for autograd (the definition)."""
    mask = mask + (1.0 - frame_mask)[:, None, :]
    pair_mask = frame_mask[:, 1:] * frame_mask[:, :-1]

    def mean(values, weights):
        return (values * weights[:, None, :]).sum() / (weights.sum() * values.shape[1])

    return (mean(mask.log(), frame_mask), mean((mask[:, 1:] - mask[:, :-1]).abs(), frame_mask),
            mean((mask[:, :, 1:] - mask[:, :, :-1]).abs(), pair_mask))


def test_gradient_is_autograds_of_the_definition_on_real_frames_only():
    torch.manual_seed(0)
    frame_mask = torch.tensor([[1.0] * 7 + [0.0] * 3, [1.0] * 10, [1.0] * 4 + [0.0] * 6], dtype=torch.float64)
    mask = (torch.rand(3, 6, 10, dtype=torch.float64) * 0.9 + 0.05) * frame_mask[:, None, :]
    mask[0, 2, 1] = mask[0, 3, 1]  # a zero difference: no gradient from it, as abs's
    mask.requires_grad_()
    task = torch.tensor(0.7, dtype=torch.float64)
    weights = {"w_mask": 2.0, "w_freq": 1.5, "w_time": 0.7}
    total, terms = importance_loss(task, mask, frame_mask, **weights)
    log_m, freq, time = autograd_terms(mask, frame_mask)
    expected = task - 2.0 * log_m + 1.5 * freq + 0.7 * time
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    (grad,) = torch.autograd.grad(total, mask)
    (want,) = torch.autograd.grad(expected, mask)
    assert torch.allclose(grad, want, rtol=1e-10, atol=1e-14)
    assert (grad[2, :, 4:] == 0).all()  # padded frames get none
    assert torch.autograd.gradcheck(lambda m: importance_loss(task, m, frame_mask, **weights)[0], (mask,))
