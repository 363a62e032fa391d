"""Fixtures of every tier (the helpers they use: helpers.py)."""

import pytest

from helpers import build_tiny_synth, make_authors_ckpt, make_generator_ckpt, make_toy_corpus


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
