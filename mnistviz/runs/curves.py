"""Training curves as the charts draw them: each batch's own loss, its place on the epoch axis, and smoothing.

Keras logs at every batch the running mean of the epoch so far, which falls off a cliff at each epoch
boundary when the mean restarts. History files hold each batch's own value instead, recovered from
two running means: `n_k * m_k - n_j * m_j` over the `n_k - n_j` samples between them (STACK.md).
"""

import math

import numpy as np
import pandas as pd

from mnistviz.learning.spec import RunSpec

PER_BATCH = "per_batch"  # history.json "batch_values": the rows hold each batch's own loss and accuracy
RUNNING_MEAN = "running_mean"  # written before that: the rows hold Keras' running mean of the epoch so far
BATCH_METRICS = ("loss", "accuracy")
_BOUNDS = {"loss": (0.0, math.inf), "accuracy": (0.0, 1.0)}


def steps_per_epoch(spec: RunSpec) -> int:
    return -(-spec.train_size // spec.batch_size)


def own_value(seen_before: int, mean_before: float, seen: int, mean: float, metric: str) -> float:
    """The mean over the samples between two running means of one epoch (one batch when they are adjacent).

    Float32 rounding in the means can push a batch's value a hair outside its range; it is clipped back.
    """
    if seen_before <= 0:
        value = mean
    elif seen <= seen_before:
        return math.nan
    else:
        value = (seen * mean - seen_before * mean_before) / (seen - seen_before)
    low, high = _BOUNDS[metric]
    return value if math.isnan(value) else min(max(value, low), high)


class RunningMeanDecoder:
    """Turns one epoch's stream of Keras running means into each batch's own values."""

    def __init__(self):
        self.start_epoch()

    def start_epoch(self) -> None:
        self._seen = 0
        self._means = dict.fromkeys(BATCH_METRICS, math.nan)

    def batch(self, size: int, means: dict) -> dict:
        """The batch's own value of each metric, given its size and the running means after it."""
        seen = self._seen + size
        own = {
            metric: own_value(self._seen, self._means[metric], seen, float(means.get(metric, math.nan)), metric)
            for metric in BATCH_METRICS
        }
        self._seen = seen
        self._means = {metric: float(means.get(metric, math.nan)) for metric in BATCH_METRICS}
        return own


def per_batch(history: dict) -> dict:
    """A history whose batch rows hold per-batch values: converted from running means when it can be done exactly.

    Kept rows may skip batches (long runs are thinned): a row then holds the mean of the batches since the
    previous kept row. The samples an epoch started at come from the epoch rows' sample counts; without
    them the history is returned as it is, still marked RUNNING_MEAN, and the chart says so.
    """
    if history.get("batch_values", RUNNING_MEAN) == PER_BATCH:
        return history
    starts, total = {}, 0
    for row in history.get("epochs", []):
        if row.get("samples") is None:
            return {**history, "batch_values": RUNNING_MEAN}
        starts[row["epoch"]] = total
        total += row["samples"]
    converted, previous = [], None
    for row in history.get("batches", []):
        epoch = row.get("epoch")
        start = starts.get(epoch, total if epoch == len(starts) + 1 else None)
        if start is None or row.get("samples_seen") is None:
            return {**history, "batch_values": RUNNING_MEAN}
        seen = row["samples_seen"] - start
        same_epoch = previous is not None and previous["epoch"] == epoch
        seen_before = previous["samples_seen"] - start if same_epoch else 0
        own = {
            metric: own_value(seen_before, previous[metric] if same_epoch else math.nan, seen, row[metric], metric)
            for metric in BATCH_METRICS
            if row.get(metric) is not None
        }
        converted.append({**row, **own})
        previous = row
    return {**history, "batches": converted, "batch_values": PER_BATCH}


def batch_curve(history: dict, steps: int) -> pd.DataFrame:
    """Per-batch training rows with their position in epochs (1.5 = half way through epoch 2)."""
    frame = pd.DataFrame(history.get("batches", []))
    if not frame.empty:
        frame["epoch_position"] = frame["epoch"] - 1 + frame["step"] / max(steps, 1)
    return frame


def batch_smoothing(rows: int, epochs: float) -> float:
    """The smoothing weight for per-batch rows: an average over about a tenth of an epoch's rows.

    A run of a few batches an epoch is drawn as it is; 469 batches of 128 digits get a weight of 0.98.
    """
    span = rows / max(epochs, 1e-9) / 10
    return 0.0 if span <= 1.5 else min(1 - 1 / span, 0.99)


def smooth(values, weight: float) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing slider); weight in [0, 1)."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or len(values) == 0:
        return values
    return pd.Series(values).ewm(alpha=1 - weight, adjust=True).mean().to_numpy()
