"""Robustness of saved runs: shift maps cached in the run's folder, and the 2x2 matrix.

A cached map is reused only while the model file and the settings are the same.
"""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnistviz import data as mnist_data
from mnistviz import drawing, predictor, robustness
from mnistviz.errors import MnistvizError
from mnistviz.models import model_input
from mnistviz.results import best_runs, notebook_cells
from mnistviz.robustness import ShiftMap
from mnistviz.store import RunRecord, RunStore, atomic_write_json

DEFAULT_STEP = 2
DEFAULT_SAMPLES = 300  # 225 shifts x 300 digits: the offset CNN's map in ~25 s on 2 cores; one cell's error ~1.7 points
CHUNK = 256  # a CNN on the 56x56 field needs ~1.5 MB of activations per image


def predict_function(saved: predictor.SavedModel):
    """uint8 model views -> probabilities, in chunks that keep memory small."""

    def predict(images: np.ndarray) -> np.ndarray:
        parts = [
            np.asarray(saved.model.predict_on_batch(model_input(images[i : i + CHUNK], saved.arch)))
            for i in range(0, len(images), CHUNK)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 10))

    return predict


def _cache_path(record: RunRecord, step: int, samples: int) -> Path:
    return record.folder / f"shiftmap-step{step}-samples{samples}.json"


def _model_stamp(record: RunRecord) -> int | None:
    try:
        return record.model_path.stat().st_mtime_ns
    except OSError:
        return None


def cached_shift_map(record: RunRecord, step: int = DEFAULT_STEP, samples: int = DEFAULT_SAMPLES) -> ShiftMap | None:
    """The saved map for these settings, if it was computed from the current model file."""
    try:
        cached = json.loads(_cache_path(record, step, samples).read_text())
    except (OSError, ValueError):
        return None
    if cached.get("model_stamp") != _model_stamp(record):
        return None
    return ShiftMap.from_dict(cached)


def _loaded_model(store: RunStore, run_id: str) -> predictor.SavedModel:
    loaded, skipped = predictor.saved_models(store)
    for saved in loaded:
        if saved.run_id == run_id:
            return saved
    for skip in skipped:
        if skip.run_id == run_id:
            raise MnistvizError(f"run {run_id} cannot be analysed: {skip.reason}")
    raise MnistvizError(f"run {run_id} has no saved model yet")


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
    saved = _loaded_model(store, run_id)
    stamp = _model_stamp(record)
    test = mnist_data.load_variant("centered")
    index = robustness.sample_indices(samples, len(test.y_test))
    shift_map = robustness.shift_accuracy(
        predict_function(saved),
        saved.data,
        test.x_test[index],
        test.y_test[index],
        robustness.shift_grid(step),
        progress,
    )
    atomic_write_json(
        _cache_path(record, step, samples),
        {**shift_map.to_dict(), "model_stamp": stamp, "step": step, "samples": samples},
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
    cells = notebook_cells()
    for done, key in enumerate(cells):
        report(done / len(cells))
        record = best.get(key)
        if record is None or not record.has_model:
            continue
        path = record.folder / "cross_accuracy.json"
        stamp = _model_stamp(record)
        try:
            cached = json.loads(path.read_text())
            if cached.get("model_stamp") == stamp:
                out[key] = {**cached, "run_id": record.run_id}
                continue
        except (OSError, ValueError):
            pass
        saved = _loaded_model(store, record.run_id)
        centered = mnist_data.load_variant("centered")
        offset = mnist_data.load_variant("offset")
        row = robustness.cross_accuracy(
            predict_function(saved), saved.data, centered.x_test, offset.x_test, centered.y_test, offset.y_test
        )
        atomic_write_json(path, {**row, "model_stamp": stamp})
        out[key] = {**row, "run_id": record.run_id}
    return out


_position_cache: dict[tuple, tuple[int, list]] = {}


def drawing_position_maps(field: np.ndarray, models: list, digit: int | None = None) -> tuple[int, list]:
    """Every model's probability of `digit` with the drawing moved to every place it fits in the field.

    `digit=None` picks the majority prediction of the models at the centered position. One batch of
    moved drawings is shared by all models; the last few answers are kept, so moving a slider is free.
    """
    key = (field.tobytes(), digit, tuple(id(saved.model) for saved in models))
    if key in _position_cache:
        return _position_cache[key]
    if digit is None:
        centered = drawing.shift_field(field, *robustness.centering_shift(field))
        votes = [
            int(np.argmax(predict_function(saved)(drawing.model_view(centered, saved.data)[None]))) for saved in models
        ]
        digit = int(np.bincount(votes, minlength=10).argmax()) if votes else 0
    shifts = robustness.positions(field)
    batch = robustness.moved_fields(field, shifts)
    maps = [
        (saved, robustness.position_map(predict_function(saved), saved.data, field, digit, shifts, batch))
        for saved in models
    ]
    if len(_position_cache) >= 8:
        _position_cache.pop(next(iter(_position_cache)))
    _position_cache[key] = (digit, maps)
    return digit, maps
