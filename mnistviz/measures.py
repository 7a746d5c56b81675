"""The Shift Lab's numbers for one run: accuracy on centered digits, accuracy anywhere, consistency and its flips.

Computed from the saved model in the background and cached in the run's folder, like the shift maps
(`shift_results.py`): reused only while the model file is the same. The maths is `shifts.py`'s.
"""

from dataclasses import dataclass

import numpy as np

from mnistviz import data as mnist_data
from mnistviz import predictor, shifts
from mnistviz.field import model_view, place
from mnistviz.jobs import TaskRunner
from mnistviz.run_results import RunResults, gather
from mnistviz.shift_results import cached_json, model_stamp
from mnistviz.store import RunRecord, RunStore, atomic_write_json

SAMPLES = 1000  # test digits moved for consistency: a one-pixel share to about +-0.7 points


@dataclass(frozen=True)
class Measures:
    """What the lab's table says of one run."""

    centered: float  # accuracy on the centered test digits, in the model's own view
    anywhere: float  # accuracy on the offset test set: digits anywhere in the field
    consistency: shifts.Consistency  # flips' `index` is into the centered test set

    def to_dict(self) -> dict:
        return {
            "centered": self.centered,
            "anywhere": self.anywhere,
            "distances": self.consistency.distances,
            "consistency": self.consistency.consistency,
            "flips": [flip.to_dict() for flip in self.consistency.flips],
        }

    @classmethod
    def from_dict(cls, values: dict) -> "Measures":
        """Measures from their JSON; ValueError for anything else (a file is untrusted)."""
        try:
            fractions = [float(values["centered"]), float(values["anywhere"]), *map(float, values["consistency"])]
            distances = [int(d) for d in values["distances"]]
            flips = [
                shifts.Flip(
                    int(f["index"]),
                    (int(f["move"][0]), int(f["move"][1])),
                    int(f["before"]),
                    float(f["before_probability"]),
                    int(f["after"]),
                    float(f["after_probability"]),
                )
                for f in values["flips"]
            ]
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as error:
            raise ValueError(f"not a run's measures ({type(error).__name__})") from error
        if not all(0 <= f <= 1 for f in fractions) or len(distances) != len(fractions) - 2 or 1 not in distances:
            raise ValueError("not a run's measures: fractions in 0..1, one per distance, one pixel among them")
        digits = [value for flip in flips for value in (flip.before, flip.after)]
        if not all(0 <= d <= 9 for d in digits) or not all(0 <= flip.index < 10_000 for flip in flips):
            raise ValueError("not a run's measures: a flip names no test digit")
        return cls(fractions[0], fractions[1], shifts.Consistency(distances, fractions[2:], flips))


def _path(record: RunRecord):
    return record.folder / f"measures-samples{SAMPLES}.json"


def cached_measures(record: RunRecord) -> Measures | None:
    """The run's saved measures, if they were computed from its current model file."""
    cached = cached_json(_path(record), record)
    try:
        measures = Measures.from_dict(cached) if cached is not None else None
    except ValueError:
        return None
    if measures is not None and measures.consistency.flips:
        digits = len(mnist_data.load_variant("centered").y_test)
        if any(flip.index >= digits for flip in measures.consistency.flips):
            return None  # a flip naming a digit this test set has not: an edited file, computed again
    return measures


def compute_measures(store: RunStore, run_id: str, progress=None) -> Measures:
    """A run's measures (cached with the run): the 2x2 matrix's row for it, and its consistency."""
    record = store.load(run_id)
    cached = cached_measures(record)
    if cached is not None:
        return cached
    saved = predictor.saved_model(store, run_id)
    stamp = model_stamp(record)
    centered = mnist_data.load_variant("centered")
    offset = mnist_data.load_variant("offset")
    report = progress or (lambda fraction: None)
    row = shifts.cross_accuracy(
        saved.probabilities, saved.view, centered.x_test, offset.x_test, centered.y_test, offset.y_test
    )
    report(0.3)
    sample = shifts.sample_indices(SAMPLES, len(centered.y_test))
    measured = shifts.consistency(saved.probabilities, saved.view, centered.x_test[sample])
    flips = [
        shifts.Flip(int(sample[f.index]), f.move, f.before, f.before_probability, f.after, f.after_probability)
        for f in measured.flips
    ]
    measures = Measures(
        row["centered"], row["offset"], shifts.Consistency(measured.distances, measured.consistency, flips)
    )
    atomic_write_json(_path(record), {**measures.to_dict(), "model_stamp": stamp})
    report(1.0)
    return measures


def flip_views(flip: shifts.Flip, view: str) -> tuple[np.ndarray, np.ndarray]:
    """The two images behind a flip, as the model saw them: the centered test digit, and moved."""
    digit = mnist_data.load_variant("centered").x_test[flip.index][None]
    return model_view(place(digit), view)[0], model_view(place(digit, *flip.move), view)[0]


def run_measures(runner: TaskRunner, store: RunStore, records: list[RunRecord]) -> RunResults[Measures]:
    """What is known of these runs' measures; the missing ones' tasks, if started."""
    return gather(
        runner,
        records,
        cached_measures,
        key=lambda run_id: ("measures", run_id),
        compute=lambda run_id, report: compute_measures(store, run_id, report),
    )
