"""Training curves as the charts draw them."""

import numpy as np
import pytest

from mnistviz import curves
from mnistviz.spec import RunSpec


def test_steps_per_epoch_count_the_last_partial_batch():
    assert curves.steps_per_epoch(RunSpec("mlp", "centered", batch_size=100, train_size=250)) == 3


def test_batch_rows_are_placed_on_the_epoch_axis():
    history = {"batches": [{"epoch": 1, "step": 1, "loss": 2.0}, {"epoch": 2, "step": 2, "loss": 1.0}]}
    frame = curves.batch_curve(history, steps=4)
    assert frame["epoch_position"].tolist() == [0.25, 1.5]
    assert curves.batch_curve({"batches": []}, steps=4).empty


def test_smoothing_is_a_bias_corrected_moving_average():
    values = [1.0, 0.0, 0.0]
    assert curves.smooth(values, 0.0).tolist() == values
    smoothed = curves.smooth(values, 0.5)
    assert smoothed[0] == 1.0  # bias-corrected: the first value is not pulled towards zero
    assert smoothed[1] == pytest.approx(0.5 / 1.5) and np.all(np.diff(smoothed) < 0)
