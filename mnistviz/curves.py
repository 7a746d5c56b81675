"""Training curves as the charts draw them: per-batch rows placed on the epoch axis, and smoothing."""

import numpy as np
import pandas as pd

from mnistviz.spec import RunSpec


def steps_per_epoch(spec: RunSpec) -> int:
    return -(-spec.train_size // spec.batch_size)


def batch_curve(history: dict, steps: int) -> pd.DataFrame:
    """Per-batch training rows with their position in epochs (1.5 = half way through epoch 2)."""
    frame = pd.DataFrame(history.get("batches", []))
    if not frame.empty:
        frame["epoch_position"] = frame["epoch"] - 1 + frame["step"] / max(steps, 1)
    return frame


def smooth(values, weight: float) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing slider); weight in [0, 1)."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or len(values) == 0:
        return values
    return pd.Series(values).ewm(alpha=1 - weight, adjust=True).mean().to_numpy()
