"""The generator's CPU path (channels last, a zero channel for the first
layer) computes what the plain convolutions compute, forward and backward."""

import torch

from iaug.models import MaskGenerator


def plain_forward(gen, spec_db):
    x = spec_db.unsqueeze(1)
    for layer in (gen.conv1, gen.conv2, gen.conv3):
        x = torch.relu(layer(x))
    return torch.sigmoid(gen.conv4(x)).squeeze(1)


def test_cpu_path_is_the_plain_convolutions():
    torch.manual_seed(0)
    gen = MaskGenerator()
    for p in gen.parameters():  # away from the initial weights' near-constant masks
        p.data.normal_(0, 0.3)
    spec_db = torch.randn(3, 257, 40) * 20 - 40
    fast, plain = gen(spec_db), plain_forward(gen, spec_db)
    assert torch.allclose(fast, plain, atol=1e-6) and fast.std() > 0.05
    grads = []
    for fn in (gen, lambda s: plain_forward(gen, s)):
        gen.zero_grad()
        (fn(spec_db) * torch.linspace(0, 1, 40)).sum().backward()
        grads.append([p.grad.clone() for p in gen.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5 * b.abs().max())
