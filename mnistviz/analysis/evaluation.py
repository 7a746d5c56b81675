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


def in_cell(labels: np.ndarray, predictions: np.ndarray, true: int, predicted: int, limit: int = 24) -> Mistakes:
    """The test digits behind one cell of the confusion matrix: true `true`, answered `predicted`."""
    chosen = np.flatnonzero((labels == true) & (predictions == predicted))
    shown = chosen[:limit]
    return Mistakes(len(chosen), shown, [f"{true} → {predicted}"] * len(shown))


def cells_by_count(counts: np.ndarray) -> list[tuple[int, int, int]]:
    """Every non-empty cell of a confusion matrix as (true, predicted, count): mistakes first, most frequent first."""
    cells = [
        (true, predicted, int(counts[true, predicted])) for true, predicted in zip(*np.nonzero(counts), strict=True)
    ]
    return sorted(cells, key=lambda cell: (cell[0] == cell[1], -cell[2], cell[0], cell[1]))
