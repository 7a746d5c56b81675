"""How a run did on the test digits, from its saved predictions: the confusion matrix and its mistakes."""

from dataclasses import dataclass

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels.astype(int), predictions.astype(int)), 1)
    return counts


@dataclass(frozen=True)
class Mistakes:
    """The test digits a model got wrong: how many, and the first few to show, titled "true → predicted"."""

    count: int
    shown: np.ndarray  # indices into the test set
    titles: list[str]


def mistakes(labels: np.ndarray, predictions: np.ndarray, limit: int = 24) -> Mistakes:
    wrong = np.flatnonzero(labels != predictions)
    shown = wrong[:limit]
    return Mistakes(len(wrong), shown, [f"{labels[i]} → {predictions[i]}" for i in shown])
