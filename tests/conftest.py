"""Fixtures of every tier (the helpers they use: helpers.py)."""

import os

import pytest

from helpers import build_tiny_synth, make_authors_ckpt, make_generator_ckpt, make_toy_corpus


# The session's experiments (tests/recipes/conftest.py): under pytest-xdist
# (`-n`, `--dist loadgroup`) the tests of one run on one worker, which builds it once.
SHARED_RUNS = ("kws_tiny", "asr_tiny", "digits_tiny")


def pytest_configure(config):
    """A worker of ``pytest -n N`` takes its share of the cores (one each for
    ``-n auto``): the recipes it runs size their threads (``--nthreads
    auto``) and side-by-side jobs to what they may use, instead of every
    worker's processes asking for every core."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    cores = sorted(os.sched_getaffinity(0))
    if worker and count and int(count) <= len(cores):
        share = cores[int(worker.removeprefix("gw"))::int(count)]
        os.sched_setaffinity(0, share)
        import torch

        torch.set_num_threads(len(share))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        for name in SHARED_RUNS:
            if name in item.fixturenames:
                item.add_marker(pytest.mark.xdist_group(name))


@pytest.fixture(scope="session")
def generator_ckpt(tmp_path_factory):
    """Some generator's weights, as a `generator.ckpt` file."""
    return make_generator_ckpt(tmp_path_factory.mktemp("weights") / "generator.ckpt")


@pytest.fixture(scope="session")
def authors_ckpt(tmp_path_factory):
    """Seeded weights in the authors' format (not theirs)."""
    return make_authors_ckpt(tmp_path_factory.mktemp("weights") / "authors_format.pt")


@pytest.fixture
def toy_corpus(tmp_path):
    return make_toy_corpus(str(tmp_path / "toy"))


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    """The tiny synth corpus with its manifests, built once: read it, or
    copy it to change it."""
    data = tmp_path_factory.mktemp("tiny_synth")
    build_tiny_synth(data)
    return data
