"""How a run did on the test digits: the confusion matrix and the mistakes shown on Train."""

import numpy as np

from mnistviz.analysis import evaluation


def test_the_confusion_matrix_counts_true_rows_against_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2], np.uint8)
    predictions = np.array([0, 1, 1, 2, 2, 0], np.uint8)
    counts = evaluation.confusion_matrix(labels, predictions, classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert counts.sum() == len(labels)


def test_mistakes_count_all_and_show_the_first_few_titled_true_then_predicted():
    labels = np.array([3, 1, 4, 1, 5, 9], np.uint8)
    predictions = np.array([3, 7, 4, 2, 5, 4], np.uint8)
    wrong = evaluation.mistakes(labels, predictions, limit=2)
    assert wrong.count == 3
    assert wrong.shown.tolist() == [1, 3]
    assert wrong.titles == ["1 → 7", "1 → 2"]


def test_every_cell_of_the_confusion_matrix_opens_its_digits():
    labels = np.array([3, 3, 3, 5, 5, 7])
    predictions = np.array([3, 5, 5, 5, 3, 7])
    counts = evaluation.confusion_matrix(labels, predictions)
    assert evaluation.cells_by_count(counts) == [(3, 5, 2), (5, 3, 1), (3, 3, 1), (5, 5, 1), (7, 7, 1)]
    cell = evaluation.in_cell(labels, predictions, 3, 5)
    assert cell.count == 2 and list(cell.shown) == [1, 2] and cell.titles == ["3 → 5", "3 → 5"]
    assert evaluation.in_cell(labels, predictions, 7, 1).count == 0
