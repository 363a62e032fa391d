"""What each torchrun rank draws: its own noise stream and its share of an
order seeded by the run's seed (two gloo ranks scoring: tests/recipes/test_torchrun.py;
the recipe under torchrun: test_recipe_kws)."""

import torch

from iaug.recipe import seed_rank_stream, train_loader_options


def draws(monkeypatch, rank, seed):
    if rank is None:
        monkeypatch.delenv("RANK", raising=False)
        monkeypatch.delenv("LOCAL_RANK", raising=False)
    else:
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("LOCAL_RANK", str(rank))
    torch.manual_seed(seed)
    seed_rank_stream(seed)
    return torch.rand(4)


def test_each_rank_draws_its_own_stream_and_rank_0_the_runs(monkeypatch):
    alone = draws(monkeypatch, None, 7)
    assert torch.equal(draws(monkeypatch, 0, 7), alone)  # one process or rank 0: unchanged
    one, two = draws(monkeypatch, 1, 7), draws(monkeypatch, 2, 7)
    assert not torch.equal(one, alone) and not torch.equal(one, two)
    assert torch.equal(draws(monkeypatch, 1, 7), one)      # repeatable
    assert not torch.equal(draws(monkeypatch, 1, 8), one)  # and the seed's


def test_the_training_order_under_torchrun_follows_the_seed(monkeypatch):
    data = list(range(50))
    hparams = {"seed": 3, "train_dataloader_opts": {"batch_size": 4, "shuffle": True}}
    monkeypatch.delenv("RANK", raising=False)
    assert train_loader_options(hparams, data) == hparams["train_dataloader_opts"]
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    opts = train_loader_options(hparams, data)
    assert "shuffle" not in opts and opts["batch_size"] == 4
    order = list(opts["sampler"])
    assert sorted(order) == data and order != data
    assert list(train_loader_options({**hparams, "seed": 4}, data)["sampler"]) != order
    assert hparams["train_dataloader_opts"]["shuffle"]  # the hparams themselves untouched
