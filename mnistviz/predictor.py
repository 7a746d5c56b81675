"""Every saved model's prediction for one drawing: the Draw page and `python -m mnistviz predict`.

Models are loaded once per process and kept while their file is unchanged (run id, mtime);
a lock makes loading safe for many browser sessions. Each model is warmed once, so that a
prediction is one cheap `predict_on_batch` call (`model.predict` per drawing is slow and leaks).
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from mnistviz import drawing
from mnistviz.models import model_input
from mnistviz.store import RunRecord, RunStore


@dataclass(frozen=True)
class SavedModel:
    """A loaded, warmed model and the run it comes from."""

    run_id: str
    label: str
    arch: str
    data: str
    model: keras.Model


@dataclass(frozen=True)
class SkippedRun:
    """A run whose model file could not be used, and why."""

    run_id: str
    label: str
    reason: str


@dataclass(frozen=True)
class Prediction:
    """One model's answer for one drawing, with the exact image it was given."""

    run_id: str
    label: str
    arch: str
    data: str
    image: np.ndarray
    digit: int
    probabilities: list[float]

    def to_dict(self) -> dict:
        """The JSON the CLI prints (the image is left out: it is the drawing seen through a window)."""
        return {
            "run_id": self.run_id,
            "name": self.label,
            "arch": self.arch,
            "data": self.data,
            "digit": self.digit,
            "probabilities": self.probabilities,
        }


_cache: dict[tuple[Path, str], tuple[int, SavedModel | SkippedRun]] = {}
_lock = threading.Lock()


def _load(record: RunRecord) -> SavedModel | SkippedRun:
    """Load and warm one run's model; any failure becomes the reason it is skipped."""
    spec = record.spec
    if spec is None:
        return SkippedRun(record.run_id, record.label, f"its settings are unreadable ({record.error})")
    try:
        model = keras.saving.load_model(record.model_path, safe_mode=True, compile=False)
    except Exception as error:  # a damaged file can fail in many ways inside Keras; the run is skipped
        return SkippedRun(
            record.run_id, record.label, f"its model file does not load ({type(error).__name__}: {error})"
        )
    expected = (None, spec.image_size, spec.image_size) + ((1,) if spec.arch == "cnn" else ())
    if tuple(model.input_shape) != expected:
        return SkippedRun(record.run_id, record.label, f"its model takes {model.input_shape}, not {expected}")
    blank = np.zeros((1, spec.image_size, spec.image_size), np.uint8)
    model.predict_on_batch(model_input(blank, spec.arch))  # the first call traces; do it once, under the lock
    return SavedModel(record.run_id, record.label, spec.arch, spec.data, model)


def saved_models(store: RunStore | None = None) -> tuple[list[SavedModel], list[SkippedRun]]:
    """Every run of `store` (default: MNISTVIZ_RUNS) that has a model file: those loaded, those skipped.

    Newest run first, as the store lists them. Unchanged files are not loaded again.
    """
    store = store or RunStore()
    root = store.root.expanduser().resolve()
    loaded, skipped = [], []
    with _lock:
        listed = set()
        for record in store.list():
            try:
                mtime = record.model_path.stat().st_mtime_ns
            except OSError:
                continue  # no model yet (queued, or stopped before its first epoch)
            key = (root, record.run_id)
            listed.add(key)
            if key not in _cache or _cache[key][0] != mtime:
                _cache[key] = (mtime, _load(record))
            entry = _cache[key][1]
            (loaded if isinstance(entry, SavedModel) else skipped).append(entry)
        for key in [key for key in _cache if key[0] == root and key not in listed]:
            del _cache[key]  # deleted runs free their memory
    return loaded, skipped


def predict_all(
    field: np.ndarray,
    recenter: bool = False,
    models: list[SavedModel] | None = None,
    store: RunStore | None = None,
) -> list[Prediction]:
    """Each saved model's prediction for a 56x56 uint8 field, optionally recentered MNIST-style first."""
    if models is None:
        models, _ = saved_models(store)
    field = np.asarray(field, dtype=np.uint8)
    if recenter:
        field = drawing.recenter(field)
    predictions = []
    for saved in models:
        image = drawing.model_view(field, saved.data)
        probabilities = np.asarray(saved.model.predict_on_batch(model_input(image[None], saved.arch)))[0]
        predictions.append(
            Prediction(
                run_id=saved.run_id,
                label=saved.label,
                arch=saved.arch,
                data=saved.data,
                image=image,
                digit=int(np.argmax(probabilities)),
                probabilities=[float(p) for p in probabilities],
            )
        )
    return predictions
