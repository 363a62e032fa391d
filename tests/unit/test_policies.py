"""Mask policies of the training arms."""

import pytest
import torch

from iaug.policies import AllOnes, BinarizedMask, LearnedMask, RolledMaskOrOnes


class Ramp(torch.nn.Module):
    """A 'generator' whose mask is a known, non-symmetric pattern in (0, 1)."""

    def forward(self, spec_db):
        b, f, t = spec_db.shape
        grid = torch.arange(f)[:, None] * 1000 + torch.arange(t)[None, :]
        return ((grid.float() + 1) / (f * 1000 + t + 1)).expand(b, f, t).clone()


def test_all_ones():
    x = torch.randn(2, 5, 7)
    assert torch.equal(AllOnes()(x), torch.ones_like(x))


def test_learned_mask_is_clipped():
    gen = lambda x: torch.stack([torch.zeros_like(x[0]), torch.ones_like(x[0])])
    m = LearnedMask(gen, clip=1e-4)(torch.zeros(1, 3, 4))
    assert m.min() == pytest.approx(1e-4) and m.max() == pytest.approx(1 - 1e-4)


def test_rolled_policy_branches_shift_range_and_axes():
    gen = Ramp()
    policy = RolledMaskOrOnes(gen, prob=0.5, max_shift=30)
    x = torch.zeros(1, 64, 70)
    base = gen(x).clamp(1e-4, 1 - 1e-4)
    rng = torch.Generator().manual_seed(0)
    ones = shifts_f = shifts_t = 0
    seen = set()
    for _ in range(400):
        m = policy(x, rng)
        if torch.equal(m, torch.ones_like(x)):
            ones += 1
            continue
        match = [(dim, s) for dim in (1, 2) for s in range(-30, 30)
                 if torch.equal(m, torch.roll(base, s, dim))]
        assert match, "mask is not a roll of the learned mask within [-30, 30)"
        dim, s = match[0] if len(match) == 1 else (0, 0)  # a zero shift matches both axes
        seen.add(s)
        shifts_f += dim == 1
        shifts_t += dim == 2
    assert 150 < ones < 250  # probability 0.5
    assert shifts_f > 50 and shifts_t > 50
    assert min(seen) == -30 and max(seen) <= 29 and len(seen) > 40


def test_rolled_policy_is_seeded():
    policy = RolledMaskOrOnes(Ramp())
    x = torch.zeros(1, 20, 30)
    a = [policy(x, torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(a[0], a[1])


@pytest.mark.parametrize("q", [1, 5, 10, 20, 40, 50, 70])
def test_binarized_mask_at_percentile(q):
    torch.manual_seed(q)
    values = torch.rand(3, 40, 50)
    policy = BinarizedMask(lambda x: values, q=q)
    m = policy(torch.zeros(3, 40, 50))
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    for i in range(3):
        flat = values[i].clamp(1e-4, 1 - 1e-4).flatten()
        k = int(torch.floor(torch.tensor(q / 100 * (flat.numel() - 1))))
        threshold = flat.sort().values[k]
        assert torch.equal(m[i], (values[i] > threshold).float())
        # "1 above, 0 at or below": the share of zeros is about q %
        assert abs((m[i] == 0).float().mean().item() * 100 - q) < 0.1
