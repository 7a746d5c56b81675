"""Every saved model's answers for a drawing: the Draw page and `mnistviz predict`.

Models are loaded once per process and kept while their file is unchanged (run id, mtime);
a lock makes loading safe for many browser sessions. Each model is warmed once, so that a
prediction is one cheap `predict_on_batch` call (`model.predict` per drawing is slow and leaks).
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from mnistviz.analysis import drawing, shifts
from mnistviz.errors import MnistvizError
from mnistviz.learning.field import centered, model_view
from mnistviz.learning.models import loaded_model_problem, model_input
from mnistviz.runs import runfiles
from mnistviz.runs.cache import BoundedCache
from mnistviz.runs.store import RunRecord, RunStore

CHUNK = 256  # images a call: a CNN on the 56x56 field needs ~1.5 MB of activations per image
POSITION_STEP = 3  # the position maps try every third place: a student sees them within a second of pen up
MODELS_KEPT = 64  # saved models loaded at once, the newest runs' (a few MB each); older runs are left out


@dataclass(frozen=True)
class SavedModel:
    """A loaded, warmed model and the run it comes from."""

    run_id: str
    label: str
    arch: str
    data: str
    model: keras.Model
    stamp: int = 0  # the model file's mtime (ns): which version of the run's weights this is
    derived: dict = field(default_factory=dict, compare=False, hash=False, repr=False)  # built from it, dropped with it
    view: str = ""  # what it sees of the field (`RunSpec.view`); by default the notebook's: centered data, the window
    words: str = ""  # a Lab variant in words (`RunSpec.model_words`), which its short name alone does not say

    def __post_init__(self):
        if not self.view:
            object.__setattr__(self, "view", "window" if self.data == "centered" else "field")

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
    stamp: int | None = None  # the model file's mtime when it was tried


@dataclass(frozen=True)
class Prediction:
    """One model's answer for one drawing, with the exact image it was given."""

    run_id: str
    label: str
    arch: str
    data: str
    view: str
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
            "view": self.view,
            "digit": self.digit,
            "probabilities": self.probabilities,
        }


_models = BoundedCache(size=MODELS_KEPT)  # (runs root, run id) -> SavedModel or SkippedRun, for one model file mtime
_loading = threading.Lock()  # one load at a time: a model's first call traces, and must not race another


def _load(record: RunRecord, stamp: int) -> SavedModel | SkippedRun:
    """Load and warm one run's model; any failure becomes the reason it is skipped."""
    spec = record.spec
    if spec is None:
        return SkippedRun(record.run_id, record.label, f"its settings are unreadable ({record.error})", stamp)
    try:
        runfiles.check_size(record.model_path)
        model = keras.saving.load_model(record.model_path, safe_mode=True, compile=False)
    except Exception as error:  # a damaged file can fail in many ways inside Keras; the run is skipped
        detail = str(error).replace(str(record.folder), record.run_id)  # no server paths in what students read
        reason = f"its model file does not load ({type(error).__name__}: {detail})"
        return SkippedRun(record.run_id, record.label, reason, stamp)
    problem = loaded_model_problem(model, spec.arch, spec.image_size)  # traces the model: once, under the lock
    if problem:
        return SkippedRun(record.run_id, record.label, problem, stamp)
    return SavedModel(
        record.run_id,
        record.label,
        spec.arch,
        spec.data,
        model,
        stamp,
        view=spec.view,
        words=spec.model_words if spec.model_words != spec.model_name else "",
    )


def _kept(root: Path, record: RunRecord) -> SavedModel | SkippedRun | None:
    """The loaded model of a run (loaded now if its file is new or changed); None while it has no model file."""
    try:
        stamp = record.model_path.stat().st_mtime_ns
    except OSError:
        return None  # no model yet (queued, or stopped before its first epoch)
    key = (root, record.run_id)
    entry = _models.get(key)
    if entry is None or entry.stamp != stamp:
        with _loading:
            entry = _models.get(key)
            if entry is None or entry.stamp != stamp:
                entry = _load(record, stamp)
                _models.put(key, entry)
    return entry


def saved_models(store: RunStore | None = None) -> tuple[list[SavedModel], list[SkippedRun]]:
    """Every run of `store` (default: MNISTVIZ_RUNS) that has a model file: those loaded, those skipped.

    Newest run first, as the store lists them; the newest MODELS_KEPT are loaded, older ones are skipped
    with that reason. Unchanged files are not loaded again; a deleted run's model is dropped at once.
    """
    store = store or RunStore()
    root = store.root.expanduser().resolve()
    loaded, skipped, listed = [], [], set()
    for record in store.list():
        if not record.has_model:
            continue
        if len(listed) == MODELS_KEPT:
            reason = f"only the newest {MODELS_KEPT} saved models are loaded at once"
            skipped.append(SkippedRun(record.run_id, record.label, reason))
            continue
        entry = _kept(root, record)
        if entry is None:
            continue
        listed.add((root, record.run_id))
        (loaded if isinstance(entry, SavedModel) else skipped).append(entry)
    _models.discard(lambda key: key[0] != root or key in listed)
    return loaded, skipped


def saved_model(store: RunStore, run_id: str) -> SavedModel:
    """One run's loaded model (shared with `saved_models`); a MnistvizError says why there is none."""
    entry = _kept(store.root.expanduser().resolve(), store.load(run_id))
    if entry is None:
        raise MnistvizError(f"run {run_id} has no saved model yet")
    if isinstance(entry, SkippedRun):
        raise MnistvizError(f"run {run_id} cannot be used: {entry.reason}")
    return entry


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
        image = model_view(field, saved.view).copy()  # the prediction keeps its own input
        probabilities = saved.probabilities(image[None])[0]
        predictions.append(
            Prediction(
                run_id=saved.run_id,
                label=saved.label,
                arch=saved.arch,
                data=saved.data,
                view=saved.view,
                image=image,
                digit=int(np.argmax(probabilities)),
                probabilities=[float(p) for p in probabilities],
            )
        )
    return predictions


_position_maps = BoundedCache(size=8)  # the last few drawings' maps (arrays only): a slider move redraws them free


def position_maps(
    field: np.ndarray, models: list[SavedModel], digit: int | None = None
) -> tuple[int, list[tuple[SavedModel, shifts.PositionMap]]]:
    """Every model's probability of `digit` with the drawing moved to every place it fits in the field.

    `digit=None` picks the majority prediction of the models with the drawing in the middle of the
    field. One batch of moved drawings is shared by all models.
    """
    key = (field.tobytes(), digit, tuple((saved.run_id, saved.stamp) for saved in models))
    digit, maps = _position_maps.get_or_compute(key, lambda: _position_maps_of(field, models, digit))
    return digit, list(zip(models, maps, strict=True))


def _position_maps_of(field: np.ndarray, models: list[SavedModel], digit: int | None):
    if digit is None:
        middle = centered(field)
        votes = [int(np.argmax(saved.probabilities(model_view(middle, saved.view)[None]))) for saved in models]
        digit = int(np.bincount(votes, minlength=10).argmax()) if votes else 0
    moves = shifts.positions(field, POSITION_STEP)
    batch = shifts.moved_fields(field, moves)
    return digit, [
        shifts.position_map(saved.probabilities, saved.view, field, digit, moves, batch, POSITION_STEP)
        for saved in models
    ]
