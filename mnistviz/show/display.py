"""How runs and numbers are written for people: labels, durations, the Compare table, digit strips."""

import math

import numpy as np
import pandas as pd

from mnistviz.runs.store import RunRecord
from mnistviz.show import text
from mnistviz.show.plots import BAR_COLOR, VAL_COLOR, RunStyle, run_style


def run_label(record: RunRecord) -> str:
    """How a run is named in pickers: its name, when it was made, and its status if not finished."""
    run_id = record.run_id
    created = run_id[4:6] + "-" + run_id[6:8] + " " + run_id[9:11] + ":" + run_id[11:13]
    notes = ([] if record.status == "finished" else [record.status]) + (["imported"] if record.imported else [])
    return f"{record.label} · {created} · {run_id[-6:]}" + (f" ({', '.join(notes)})" if notes else "")


SMOOTHING_FROM_EPOCHS = 8  # per-epoch curves shorter than this are drawn as they are: no smoothing offered


def trained_where(record: RunRecord) -> str:
    """Where a run trained, in words: in a process of this dashboard's machine, or on a Ray cluster (and which machine)."""
    machine = f" ({text.markdown(record.host)})" if record.host else ""  # status.json: untrusted
    if record.imported:
        return "Trained elsewhere and imported here from a bundle (mnistviz export)."
    if record.executor == "ray":
        return f"Trained on the Ray cluster{machine}."
    return f"Trained in a process of its own on the dashboard's machine{machine}."


def queued_sentence(started: int, joined: int) -> str:
    """What a toast says after a request: the runs it queued, and those it joined (asked for or trained already)."""
    parts = [f"Queued {started} run{'' if started == 1 else 's'}"] if started else []
    if joined:
        already = "was" if joined == 1 else "were"
        parts.append(f"{joined} {already} already asked for or trained: you see {'it' if joined == 1 else 'them'} too")
    return "; ".join(parts) + "."


def run_styles(records: list[RunRecord]) -> dict[str, RunStyle]:
    """Each run's colour, dash and marker (`plots.run_style`), given in the order runs were made.

    Pages pass every saved run, so a run keeps its style on every chart and page; run ids begin with
    the second a run was made, so a run made later leaves the older ones theirs.
    """
    ordered = sorted(record.run_id for record in records)
    return {run_id: run_style(i) for i, run_id in enumerate(ordered)}


def training_state(snapshot) -> str:
    """What a queued or training run is doing, in the words every page uses: 'Training now: epoch 3 of 3'."""
    if snapshot.status == "running":
        return f"Training now: epoch {min(snapshot.epoch + 1, snapshot.epochs_total)} of {snapshot.epochs_total}"
    return "Waiting in the training queue."


def time_left(snapshot) -> str:
    """'4 min 10 s left' at the pace the run trains now; 'finishing' once every batch is trained (the last
    check, the test and saving follow: a number there said "1 s left" for 40 s)."""
    if snapshot.finishing:
        return "finishing: the last check, the test and saving"
    return f"{format_seconds(snapshot.seconds_left)} left"


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


def compare_table(records: list[RunRecord], measured: dict | None = None) -> pd.DataFrame:
    """One row per run: what the Compare page's table and CSV download hold.

    `measured` (run id -> `measures.Measures`) adds accuracy centered and anywhere, consistency and
    one-pixel stability where a run has them; blank where it does not yet.
    """
    measured = measured or {}
    rows = []
    for record in records:
        summary = record.summary()
        found = measured.get(record.run_id)
        rows.append(
            {
                "run": summary["name"],
                "run id": record.run_id,
                "status": record.status + (", imported" if record.imported else ""),
                "architecture": record.spec.model_words if record.spec else "",
                "sees": record.spec.view if record.spec else "",
                "data": summary["data"],
                "augment shift": summary["augment_shift"],
                "parameters": summary["params"],
                "epochs": summary["epochs_done"],
                "seconds per epoch": summary["seconds_per_epoch"],
                "best val accuracy": summary["best_val_accuracy"],
                "test accuracy": summary["test_accuracy"],
                "accuracy centered": found.centered if found else None,
                "accuracy anywhere": found.anywhere if found else None,
                "consistency": found.consistency if found else None,
                "one-pixel stability": found.stability.one_pixel if found else None,
            }
        )
    return pd.DataFrame(rows)


SHARES = ("test accuracy", "best val accuracy", "accuracy centered", "accuracy anywhere", "consistency")
SHARES += ("one-pixel stability",)
MEASURED = SHARES[2:]  # computed after training, on Compare's button


def table_on_screen(table: pd.DataFrame, measuring: set[str]) -> pd.DataFrame:
    """The Compare table as people read it: every share as '97.90%' (one format, two decimals), a measure
    not computed yet as '-', or 'measuring' while it is; never 'None'.

    Text, so each share is padded to one width: sorting the column sorts the numbers.
    """
    shown = table.copy()
    for column in SHARES:
        shown[column] = [
            f"{value * 100:6.2f}%"
            if value is not None and value == value
            else "measuring"
            if column in MEASURED and run_id in measuring
            else "-"
            for value, run_id in zip(table[column], table["run id"], strict=True)
        ]
    return shown


CSV_DECIMALS = {
    "best val accuracy": 4,
    "test accuracy": 4,
    "accuracy centered": 4,
    "accuracy anywhere": 4,
    "consistency": 4,
    "one-pixel stability": 4,
    "seconds per epoch": 1,
}


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


BAR_PIXELS = 48  # the tallest bar (100%) of the probability bars


def probability_bars(probabilities, digit: int) -> str:
    """One bar per digit 0-9 as plain HTML, the predicted one highlighted: how sure a model is, and what else.

    HTML, not a chart: four models answer on every stroke, and four plotly charts took a quarter of a
    second to build and longer to draw. Sizes are in rem, so presentation mode enlarges them too.
    """
    columns = []
    for value, probability in enumerate(
        min(max(float(p), 0.0), 1.0) if math.isfinite(p) else 0.0 for p in probabilities
    ):
        color = VAL_COLOR if value == digit else BAR_COLOR
        label = f"{probability:.0%}" if probability >= 0.1 else "&nbsp;"
        height = max(1, round(probability * BAR_PIXELS))
        columns.append(
            '<div style="flex:1;display:flex;flex-direction:column;align-items:center;justify-content:flex-end">'
            f'<span style="font-size:0.7rem;line-height:1.1;white-space:nowrap">{label}</span>'
            f'<div title="digit {value}: {probability:.1%}" style="width:70%;height:{height / 16:.3f}rem;'
            f'background:{color};border-radius:2px 2px 0 0"></div>'
            f'<span style="font-size:0.875rem;line-height:1.3">{value}</span></div>'
        )
    return (
        '<div role="img" aria-label="probabilities of the digits 0 to 9" '
        f'style="display:flex;align-items:flex-end;gap:1px;height:{BAR_PIXELS / 16 + 2.5:.3f}rem;'
        f'border-bottom:1px solid #ccc;width:100%">{"".join(columns)}</div>'
    )


def deviations_table(deviations) -> str:
    """Where the tool differs from the notebook, as a Markdown table that wraps on a phone (a data frame would cut it)."""
    lines = ["| what | the notebook | here |", "| --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in deviations]  # the project's own text, not a user's
    return "\n".join(lines)
