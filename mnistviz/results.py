"""What the pages show about runs: the four notebook models, tables, confusion, smoothing."""

import numpy as np
import pandas as pd

from mnistviz.spec import ARCHITECTURES, RunSpec
from mnistviz.store import RunRecord

VARIANT_NAMES = ("centered", "offset")
NOTEBOOK_VAL_ACCURACY = {
    ("mlp", "centered"): 0.9826,
    ("cnn", "centered"): 0.9918,
    ("mlp", "offset"): 0.8926,
    ("cnn", "offset"): 0.9814,
}


def notebook_cells() -> list[tuple[str, str]]:
    """The four notebook models as (arch, data), in the order the lesson shows them."""
    return [(arch, data) for data in VARIANT_NAMES for arch in ARCHITECTURES]


def best_runs(records: list[RunRecord]) -> dict[tuple[str, str], RunRecord]:
    """Per (arch, data), the finished or stopped run with the best test accuracy.

    Runs trained with shift augmentation are left out: they are the experiment, not the notebook's model.
    """
    best: dict[tuple[str, str], RunRecord] = {}
    for record in records:
        if record.spec is None or record.test_accuracy is None or record.spec.augment_shift:
            continue
        if record.status not in ("finished", "stopped"):
            continue
        key = (record.spec.arch, record.spec.data)
        if key not in best or record.test_accuracy > best[key].test_accuracy:
            best[key] = record
    return best


def notebook_spec(arch: str, data: str) -> RunSpec:
    """The notebook's settings for one of its four models."""
    return RunSpec(arch=arch, data=data)


def compare_table(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: what the Compare page's table and CSV download hold."""
    rows = []
    for record in records:
        summary = record.summary()
        rows.append(
            {
                "run": summary["name"],
                "run id": record.run_id,
                "status": record.status,
                "architecture": (summary["arch"] or "").upper(),
                "data": summary["data"],
                "augment shift": summary["augment_shift"],
                "parameters": summary["params"],
                "epochs": summary["epochs_done"],
                "seconds per epoch": summary["seconds_per_epoch"],
                "best val accuracy": summary["best_val_accuracy"],
                "test accuracy": summary["test_accuracy"],
            }
        )
    return pd.DataFrame(rows)


def smooth(values, weight: float) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing slider); weight in [0, 1)."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or len(values) == 0:
        return values
    return pd.Series(values).ewm(alpha=1 - weight, adjust=True).mean().to_numpy()


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels.astype(int), predictions.astype(int)), 1)
    return counts


def misclassified(labels: np.ndarray, predictions: np.ndarray, limit: int = 24) -> np.ndarray:
    """Indices of the first `limit` test digits the model got wrong."""
    return np.flatnonzero(labels != predictions)[:limit]


def batch_curve(history: dict, steps_per_epoch: int) -> pd.DataFrame:
    """Per-batch training rows with their position in epochs (1.5 = half way through epoch 2)."""
    frame = pd.DataFrame(history.get("batches", []))
    if not frame.empty:
        frame["epoch_position"] = frame["epoch"] - 1 + frame["step"] / max(steps_per_epoch, 1)
    return frame


def steps_per_epoch(spec: RunSpec) -> int:
    return -(-spec.train_size // spec.batch_size)


def run_label(record) -> str:
    """How a run is named in pickers: its name, when it was made, and its status if not finished."""
    created = record.run_id[4:6] + "-" + record.run_id[6:8] + " " + record.run_id[9:11] + ":" + record.run_id[11:13]
    status = "" if record.status == "finished" else f" ({record.status})"
    return f"{record.label} · {created} · {record.run_id[-6:]}{status}"


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def digit_strip(images: np.ndarray, scale: int = 3, gap: int = 2) -> np.ndarray:
    """Digits side by side, upscaled, with grey gaps: one uint8 picture for st.image."""
    tiles = [np.kron(image, np.ones((scale, scale), dtype=np.uint8)) for image in images]
    height = tiles[0].shape[0]
    spacer = np.full((height, gap), 90, dtype=np.uint8)
    parts = []
    for tile in tiles:
        parts += [tile, spacer]
    return np.hstack(parts[:-1])
