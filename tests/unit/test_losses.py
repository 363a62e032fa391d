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
