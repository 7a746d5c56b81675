"""Shift maps and the 2x2 matrix of saved runs: computed in the background, cached in the run's folder.

A cached result is reused only while the model file and the settings are the same. The maths is
`shifts.py`'s; this module runs it on saved models, keeps what it gives, and tells the pages what
is ready and what is being computed.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistviz.analysis import predictor, shifts
from mnistviz.analysis.shifts import DEFAULT_SAMPLES, DEFAULT_STEP, ShiftMap
from mnistviz.errors import MnistvizError
from mnistviz.learning import data as mnist_data
from mnistviz.learning.field import as_view
from mnistviz.learning.notebook import best_runs, cells
from mnistviz.runs import runfiles
from mnistviz.runs.cache import BoundedCache
from mnistviz.runs.results import RunResults, gather
from mnistviz.runs.store import RunRecord, RunStore, atomic_write_json
from mnistviz.training.tasks import Task, TaskRunner


def shift_map_path(record: RunRecord, step: int, samples: int) -> Path:
    return record.folder / f"shiftmap-step{step}-samples{samples}.json"


def model_stamp(record: RunRecord) -> int | None:
    try:
        return record.model_path.stat().st_mtime_ns
    except OSError:
        return None


def cached_json(path: Path, record: RunRecord) -> dict | None:
    """A result saved in the run's folder, if it is an object computed from the current model file.

    Anything else (missing, cut short, edited, from another model) is no result: it is computed again.
    """
    try:
        cached = runfiles.read_json(path)
    except (OSError, ValueError, RecursionError, MnistvizError):
        return None
    if not isinstance(cached, dict) or cached.get("model_stamp") != model_stamp(record):
        return None
    return cached


def cached_shift_map(record: RunRecord, step: int = DEFAULT_STEP, samples: int = DEFAULT_SAMPLES) -> ShiftMap | None:
    """The saved map for these settings, if it was computed from the current model file."""
    cached = cached_json(shift_map_path(record, step, samples), record)
    try:
        return ShiftMap.from_dict(cached) if cached is not None else None
    except ValueError:
        return None


def compute_shift_map(
    store: RunStore,
    run_id: str,
    step: int = DEFAULT_STEP,
    samples: int = DEFAULT_SAMPLES,
    progress=None,
) -> ShiftMap:
    """Accuracy of a run's model at every shift of a fixed test sample; cached with the run."""
    record = store.load(run_id)
    cached = cached_shift_map(record, step, samples)
    if cached is not None:
        return cached
    began = time.perf_counter()
    saved = predictor.saved_model(store, run_id)
    stamp = model_stamp(record)
    test = mnist_data.load_variant("centered")
    index = shifts.sample_indices(samples, len(test.y_test))
    shift_map = shifts.shift_accuracy(
        saved.probabilities,
        saved.view,
        test.x_test[index],
        test.y_test[index],
        shifts.shift_grid(step),
        progress,
    )
    atomic_write_json(
        shift_map_path(record, step, samples),
        {**shift_map.to_dict(), "model_stamp": stamp, "step": step, "samples": samples}
        | {"seconds": time.perf_counter() - began},
    )
    return shift_map


def cross_matrix(
    store: RunStore, report: Callable[[float], None] = lambda fraction: None
) -> dict[tuple[str, str], dict]:
    """The 2x2 matrix per architecture: for each notebook cell with a saved model, accuracy tested on
    centered digits and on the offset test set (cached with the run like the shift maps).

    `report` hears the fraction of the four cells done.
    """
    best = best_runs(store.list())
    out = {}
    four = cells()
    for done, key in enumerate(four):
        report(done / len(four))
        record = best.get(key)
        if record is None or not record.has_model:
            continue
        cached = _cached_row(record)
        if cached is not None:
            out[key] = cached
            continue
        path = record.folder / "cross_accuracy.json"
        stamp = model_stamp(record)
        saved = predictor.saved_model(store, record.run_id)
        centered = mnist_data.load_variant("centered")
        offset = mnist_data.load_variant("offset")
        row = shifts.cross_accuracy(
            saved.probabilities, saved.view, centered.x_test, offset.x_test, centered.y_test, offset.y_test
        )
        atomic_write_json(path, {**row, "model_stamp": stamp})
        out[key] = {**row, "run_id": record.run_id}
    return out


def _cached_row(record: RunRecord) -> dict | None:
    """A run's saved row of the 2x2 matrix, if computed from its current model file."""
    cached = cached_json(record.folder / "cross_accuracy.json", record)
    if cached is None or not all(_fraction(cached.get(tested)) for tested in ("centered", "offset")):
        return None
    return {"centered": cached["centered"], "offset": cached["offset"], "run_id": record.run_id}


def cached_cross_matrix(store: RunStore) -> dict[tuple[str, str], dict]:
    """The 2x2 matrix as far as it is saved, computing nothing: for the sentences a page opens with."""
    rows = {key: _cached_row(record) for key, record in best_runs(store.list()).items() if record.has_model}
    return {key: row for key, row in rows.items() if row is not None}


def _fraction(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def cross_matrix_task(runner: TaskRunner, store: RunStore) -> Task:
    """The background task computing the 2x2 matrix of the current best runs (started, or restarted after an error)."""
    key = ("cross-matrix", tuple(sorted(record.run_id for record in best_runs(store.list()).values())))
    task = runner.get(key)
    if task is None or (task.done.is_set() and task.error):
        task = runner.submit(key, lambda report: cross_matrix(store, report))
    return task


@dataclass(frozen=True)
class CellDigits:
    """The test digits behind one cell of the 2x2 matrix, as the model saw them: the ones it got wrong first."""

    images: np.ndarray
    titles: list[str]
    wrong: int
    tested: int


_cells = BoundedCache(size=8)  # (run id, model stamp, test set) -> CellDigits: one cell opened by a class at once


def cell_digits(store: RunStore, run_id: str, tested: str, limit: int = 24) -> CellDigits:
    """A run's test digits of `tested` ("centered" or "offset") seen through its own view: its mistakes, first `limit`."""
    record = store.load(run_id)
    key = (run_id, model_stamp(record), tested)
    return _cells.get_or_compute(key, lambda: _cell_digits(store, run_id, tested, limit))


def _cell_digits(store: RunStore, run_id: str, tested: str, limit: int) -> CellDigits:
    saved = predictor.saved_model(store, run_id)
    test = mnist_data.load_variant(tested)
    views = as_view(test.x_test, saved.view)
    answers = saved.probabilities(views).argmax(axis=1)
    wrong = np.flatnonzero(answers != test.y_test)
    shown = wrong[:limit]
    titles = [f"{test.y_test[i]} → {answers[i]}" for i in shown]
    return CellDigits(views[shown], titles, len(wrong), len(answers))


def shift_maps(
    runner: TaskRunner, store: RunStore, records: list[RunRecord], step: int, samples: int
) -> RunResults[ShiftMap]:
    """What is known of these runs' shift maps: saved ones, and the tasks of those being computed."""
    return gather(
        runner,
        records,
        lambda record: cached_shift_map(record, step, samples),
        key=lambda run_id: ("shift-map", run_id, step, samples),
        compute=lambda run_id, report: compute_shift_map(store, run_id, step, samples, report),
    )
