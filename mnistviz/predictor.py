"""Every saved model's answers for a drawing: the Draw page and `mnistviz predict`.

Models are loaded once per process and kept while their file is unchanged (run id, mtime);
a lock makes loading safe for many browser sessions. Each model is warmed once, so that a
prediction is one cheap `predict_on_batch` call (`model.predict` per drawing is slow and leaks).
"""

import threading
from dataclasses import dataclass

import keras
import numpy as np

from mnistviz import drawing, shifts
from mnistviz.cache import BoundedCache
from mnistviz.field import centered, model_view
from mnistviz.models import model_input
from mnistviz.store import RunRecord, RunStore

CHUNK = 256  # images a call: a CNN on the 56x56 field needs ~1.5 MB of activations per image
MODELS_KEPT = 64  # loaded models per process (a few MB each); a deleted run's model is dropped at once


@dataclass(frozen=True)
class SavedModel:
    """A loaded, warmed model and the run it comes from."""

    run_id: str
    label: str
    arch: str
    data: str
    model: keras.Model

    def probabilities(self, views: np.ndarray) -> np.ndarray:
        """uint8 model views (n, side, side) -> (n, 10) probabilities, in chunks that keep memory small."""
        parts = [
            np.asarray(self.model.predict_on_batch(model_input(views[i : i + CHUNK], self.arch)))
            for i in range(0, len(views), CHUNK)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)


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


_models = BoundedCache(size=MODELS_KEPT)  # (runs root, run id) -> (model file mtime, SavedModel or SkippedRun)
_loading = threading.Lock()  # one load at a time: a model's first call traces, and must not race another


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
    listed = set()
    for record in store.list():
        try:
            mtime = record.model_path.stat().st_mtime_ns
        except OSError:
            continue  # no model yet (queued, or stopped before its first epoch)
        key = (root, record.run_id)
        listed.add(key)
        kept = _models.get(key)
        if kept is None or kept[0] != mtime:
            with _loading:
                kept = _models.get(key)
                if kept is None or kept[0] != mtime:
                    kept = (mtime, _load(record))
                    _models.put(key, kept)
        entry = kept[1]
        (loaded if isinstance(entry, SavedModel) else skipped).append(entry)
    _models.discard(lambda key: key[0] != root or key in listed)  # deleted runs free their memory
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
        image = model_view(field, saved.data)
        probabilities = saved.probabilities(image[None])[0]
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


_position_maps = BoundedCache(size=8)  # the last few drawings' maps: moving a slider redraws them for free


def position_maps(
    field: np.ndarray, models: list[SavedModel], digit: int | None = None
) -> tuple[int, list[tuple[SavedModel, shifts.PositionMap]]]:
    """Every model's probability of `digit` with the drawing moved to every place it fits in the field.

    `digit=None` picks the majority prediction of the models with the drawing in the middle of the
    field. One batch of moved drawings is shared by all models.
    """
    key = (field.tobytes(), digit, tuple((saved.run_id, id(saved.model)) for saved in models))
    return _position_maps.get_or_compute(key, lambda: _position_maps_of(field, models, digit))


def _position_maps_of(field: np.ndarray, models: list[SavedModel], digit: int | None):
    if digit is None:
        middle = centered(field)
        votes = [int(np.argmax(saved.probabilities(model_view(middle, saved.data)[None]))) for saved in models]
        digit = int(np.bincount(votes, minlength=10).argmax()) if votes else 0
    moves = shifts.positions(field)
    batch = shifts.moved_fields(field, moves)
    maps = [
        (saved, shifts.position_map(saved.probabilities, saved.data, field, digit, moves, batch)) for saved in models
    ]
    return digit, maps
