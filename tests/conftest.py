"""Shared fixtures: small synthetic MNIST-like data, and a private runs directory per test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from mnistviz import data


def synthetic_mnist(n_train: int = 600, n_test: int = 200, seed: int = 0) -> data.Mnist:
    """Digits that are learnable: label k is a bright 6x6 square at the k-th place of a grid."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            row, col = 4 + 7 * (label // 4), 4 + 6 * (label % 4)
            images[i, row : row + 6, col : col + 5] = 255
        return images, labels

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return data.Mnist(x_train, y_train, x_test, y_test)


@pytest.fixture
def tiny_mnist():
    return synthetic_mnist()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    monkeypatch.setenv("MNISTVIZ_RUNS", str(folder))
    return folder


@pytest.fixture
def synthetic_variants(monkeypatch, tiny_mnist):
    """Make training read the synthetic data instead of MNIST."""
    variants = {name: data.make_variant(tiny_mnist, name) for name in data.VARIANTS}
    monkeypatch.setattr(data, "load_variant", lambda name, path=None: variants[name])
    return variants
