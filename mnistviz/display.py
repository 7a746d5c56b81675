"""How runs and numbers are written for people: labels, durations, the Compare table, digit strips."""

import numpy as np
import pandas as pd

from mnistviz import text
from mnistviz.plots import PALETTE
from mnistviz.store import RunRecord


def run_label(record: RunRecord) -> str:
    """How a run is named in pickers: its name, when it was made, and its status if not finished."""
    run_id = record.run_id
    created = run_id[4:6] + "-" + run_id[6:8] + " " + run_id[9:11] + ":" + run_id[11:13]
    status = "" if record.status == "finished" else f" ({record.status})"
    return f"{record.label} · {created} · {run_id[-6:]}{status}"


SMOOTHING_FROM_EPOCHS = 8  # per-epoch curves shorter than this are drawn as they are: no smoothing offered


def run_colors(records: list[RunRecord]) -> dict[str, str]:
    """Each run's colour: the palette in the order runs were made, so a run keeps its colour on every page."""
    ordered = sorted(record.run_id for record in records)
    return {run_id: PALETTE[i % len(PALETTE)] for i, run_id in enumerate(ordered)}


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


CSV_DECIMALS = {"best val accuracy": 4, "test accuracy": 4, "seconds per epoch": 1}


def csv_export(table: pd.DataFrame) -> bytes:
    """The table as CSV, numbers rounded as people read them, no cell a spreadsheet formula (a name may start with '=')."""
    return table.round(CSV_DECIMALS).map(text.csv_cell).to_csv(index=False).encode()


def digit_strip(images: np.ndarray, scale: int = 3, gap: int = 2) -> np.ndarray:
    """Digits side by side, upscaled, with grey gaps: one uint8 picture for st.image."""
    tiles = [np.kron(image, np.ones((scale, scale), dtype=np.uint8)) for image in images]
    height = tiles[0].shape[0]
    spacer = np.full((height, gap), 90, dtype=np.uint8)
    parts = []
    for tile in tiles:
        parts += [tile, spacer]
    return np.hstack(parts[:-1])
