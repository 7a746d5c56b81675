"""Training curves as the charts draw them."""

import numpy as np
import pytest

from mnistviz.learning.spec import RunSpec
from mnistviz.runs import curves


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


def test_a_batchs_own_value_is_recovered_from_two_running_means():
    assert curves.own_value(0, float("nan"), 100, 0.9, "loss") == 0.9  # the first batch is its own mean
    assert curves.own_value(100, 0.9, 200, 0.5, "loss") == pytest.approx(0.1)
    assert curves.own_value(200, 0.5, 250, 0.6, "loss") == pytest.approx(1.0)  # a smaller last batch
    assert curves.own_value(200, 0.9, 250, 0.95, "accuracy") == 1.0  # float32 rounding clipped back to the range
    assert curves.own_value(200, 0.5, 250, 0.3, "loss") == 0.0


def test_the_decoder_restarts_with_every_epoch():
    decoder = curves.RunningMeanDecoder()
    means = [{"loss": 2.0, "accuracy": 0.2}, {"loss": 1.5, "accuracy": 0.3}, {"loss": 1.0, "accuracy": 0.5}]
    own = [decoder.batch(10, m) for m in means]
    assert [o["loss"] for o in own] == pytest.approx([2.0, 1.0, 0.0])
    assert [o["accuracy"] for o in own] == pytest.approx([0.2, 0.4, 0.9])
    decoder.start_epoch()
    assert decoder.batch(10, {"loss": 0.8, "accuracy": 0.7}) == pytest.approx({"loss": 0.8, "accuracy": 0.7})


def running_mean_history(own_losses: list[list[float]], size: int = 10) -> dict:
    """A history as earlier versions wrote it: every batch row holds the running mean of its epoch so far."""
    batches, epochs, seen = [], [], 0
    for epoch, losses in enumerate(own_losses, start=1):
        for step, _ in enumerate(losses, start=1):
            seen += size
            mean = float(np.mean(losses[:step]))
            batches.append({"epoch": epoch, "step": step, "samples_seen": seen, "loss": mean, "accuracy": 0.5})
        epochs.append({"epoch": epoch, "loss": float(np.mean(losses)), "samples": size * len(losses)})
    return {"epochs": epochs, "batches": batches, "batch_values": curves.RUNNING_MEAN}


def test_histories_of_running_means_are_converted_to_each_batchs_own_values():
    own = [[2.0, 1.0, 0.6, 0.4], [0.5, 0.3, 0.2, 0.2]]
    converted = curves.per_batch(running_mean_history(own))
    assert converted["batch_values"] == curves.PER_BATCH
    assert [row["loss"] for row in converted["batches"]] == pytest.approx(own[0] + own[1])


def test_thinned_rows_hold_the_mean_of_the_batches_since_the_row_before():
    history = running_mean_history([[2.0, 1.0, 0.6, 0.4]])
    history["batches"] = history["batches"][1::2]  # steps 2 and 4 kept
    assert [row["loss"] for row in curves.per_batch(history)["batches"]] == pytest.approx([1.5, 0.5])


def test_a_run_interrupted_mid_epoch_converts_its_unfinished_epoch_too():
    history = running_mean_history([[2.0, 1.0], [0.5, 0.3]])
    history["epochs"] = history["epochs"][:1]  # epoch 2 never ended
    assert [row["loss"] for row in curves.per_batch(history)["batches"]] == pytest.approx([2.0, 1.0, 0.5, 0.3])


def test_a_history_that_cannot_be_converted_exactly_says_it_holds_running_means():
    history = running_mean_history([[2.0, 1.0]])
    history["epochs"][0]["samples"] = None  # written before epochs counted their samples
    converted = curves.per_batch(history)
    assert converted["batch_values"] == curves.RUNNING_MEAN and converted["batches"] == history["batches"]


def test_per_batch_rows_are_smoothed_over_a_tenth_of_an_epoch():
    assert curves.batch_smoothing(rows=12, epochs=2) == 0.0  # six batches an epoch: drawn as they are
    assert curves.batch_smoothing(rows=938, epochs=2) == pytest.approx(1 - 1 / 46.9)
    assert curves.batch_smoothing(rows=4000, epochs=0.5) == 0.99
