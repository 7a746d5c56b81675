"""How a run did on the test digits, from its saved predictions: the confusion matrix and its mistakes."""

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels.astype(int), predictions.astype(int)), 1)
    return counts


def misclassified(labels: np.ndarray, predictions: np.ndarray, limit: int = 24) -> np.ndarray:
    """Indices of the first `limit` test digits the model got wrong."""
    return np.flatnonzero(labels != predictions)[:limit]
