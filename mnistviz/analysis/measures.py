"""The Shift Lab's numbers for one run: accuracy centered and anywhere, consistency, one-pixel stability and its flips.

Two measures of how a model's answer survives moves, each under the name its source gives it:
`consistency` is Zhang (2019)'s (two random shifts of the same digit give the same answer);
`stability` is the share of digits whose answer survives a move of some pixels from the trained,
centered position (`one_pixel_stability` at one pixel).

Computed from the saved model in the background and cached in the run's folder, like the shift maps
(`shift_maps.py`): reused only while the model file is the same. The maths is `shifts.py`'s.
"""

import functools
import statistics
import time
from dataclasses import dataclass

import numpy as np

from mnistviz.analysis import predictor, reach, shifts
from mnistviz.analysis.shift_maps import cached_json, model_stamp, shift_map_path
from mnistviz.learning import data as mnist_data
from mnistviz.learning.field import MAX_SHIFT, ink_in_window, model_view, place
from mnistviz.runs.results import RunResults, gather
from mnistviz.runs.store import RunRecord, RunStore, atomic_write_json
from mnistviz.training.tasks import TaskRunner

SAMPLES = 1000  # test digits moved for consistency and stability: a share to about +-0.7 points


@dataclass(frozen=True)
class Measures:
    """What the lab's table says of one run."""

    centered: float  # accuracy on the centered test digits, in the model's own view
    anywhere: float  # accuracy on the offset test set: digits anywhere in the field
    consistency: float  # Zhang's: two random shifts within +-CONSISTENCY_RANGE px agree
    stability: shifts.Stability  # flips' `index` is into the centered test set

    def to_dict(self) -> dict:
        return {
            "centered": self.centered,
            "anywhere": self.anywhere,
            "consistency": self.consistency,
            "consistency_range": shifts.CONSISTENCY_RANGE,
            "distances": self.stability.distances,
            "stability": self.stability.stability,
            "flips": [flip.to_dict() for flip in self.stability.flips],
        }

    @classmethod
    def from_dict(cls, values: dict) -> "Measures":
        """Measures from their JSON; ValueError for anything else (a file is untrusted)."""
        try:
            fractions = [
                float(values["centered"]),
                float(values["anywhere"]),
                float(values["consistency"]),
                *map(float, values["stability"]),
            ]
            if int(values["consistency_range"]) != shifts.CONSISTENCY_RANGE:
                raise ValueError("measured over another range")
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
        if not all(0 <= f <= 1 for f in fractions) or len(distances) != len(fractions) - 3 or 1 not in distances:
            raise ValueError("not a run's measures: fractions in 0..1, one per distance, one pixel among them")
        digits = [value for flip in flips for value in (flip.before, flip.after)]
        if not all(0 <= d <= 9 for d in digits) or not all(0 <= flip.index < 10_000 for flip in flips):
            raise ValueError("not a run's measures: a flip names no test digit")
        sure = [value for flip in flips for value in (flip.before_probability, flip.after_probability)]
        if not all(0 <= value <= 1 for value in sure) or not all(
            abs(dx) <= MAX_SHIFT and abs(dy) <= MAX_SHIFT for dx, dy in (flip.move for flip in flips)
        ):
            raise ValueError("not a run's measures: a flip's probability outside 0..1 or its move outside the field")
        return cls(*fractions[:3], shifts.Stability(distances, fractions[3:], flips))


def _path(record: RunRecord):
    return record.folder / f"measures-v2-samples{SAMPLES}.json"  # v2: Zhang's consistency beside the stability


def cached_measures(record: RunRecord) -> Measures | None:
    """The run's saved measures, if they were computed from its current model file."""
    cached = cached_json(_path(record), record)
    try:
        measures = Measures.from_dict(cached) if cached is not None else None
    except ValueError:
        return None
    if measures is not None and measures.stability.flips:
        digits = len(mnist_data.load_variant("centered").y_test)
        if any(flip.index >= digits for flip in measures.stability.flips):
            return None  # a flip naming a digit this test set has not: an edited file, computed again
    return measures


def compute_measures(store: RunStore, run_id: str, progress=None) -> Measures:
    """A run's measures (cached with the run): the 2x2 matrix's row for it, its consistency and stability."""
    record = store.load(run_id)
    cached = cached_measures(record)
    if cached is not None:
        return cached
    began = time.perf_counter()
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
    consistency = shifts.consistency(saved.probabilities, saved.view, centered.x_test[sample])
    report(0.5)
    measured = shifts.stability(saved.probabilities, saved.view, centered.x_test[sample])
    flips = [
        shifts.Flip(int(sample[f.index]), f.move, f.before, f.before_probability, f.after, f.after_probability)
        for f in measured.flips
    ]
    measures = Measures(
        row["centered"], row["offset"], consistency, shifts.Stability(measured.distances, measured.stability, flips)
    )
    seconds = time.perf_counter() - began  # what the Lab quotes for measuring the next runs on this server
    atomic_write_json(_path(record), {**measures.to_dict(), "model_stamp": stamp, "seconds": seconds})
    report(1.0)
    return measures


@functools.lru_cache(maxsize=4)
def ink_left_at(move: tuple[int, int]) -> float:
    """The share of a test digit's ink left in the 28x28 window when moved by `move`: what a window model receives."""
    return ink_in_window(mnist_data.load_variant("centered").x_test, *move)


@functools.lru_cache(maxsize=4)
def ink_reach_at(move: tuple[int, int], digits: int = 1000) -> dict[str, float]:
    """For each padding, how strongly a test digit's ink reaches the CNN's head when moved by `move`, as a share
    of the most-reached pixel's paths (`reach.py`), averaged over the ink: the border effect where the digit is."""
    sample = mnist_data.load_variant("centered").x_test[:digits]
    fields = place(sample, *move).reshape(len(sample), -1).astype(np.float32)
    ink = fields.sum(axis=1)
    shares = {}
    for padding in reach.PADDINGS:
        reached = fields @ reach.relative_reach(reach.paths_to_head(padding)).ravel().astype(np.float32)
        shares[padding] = float(np.mean(reached[ink > 0] / ink[ink > 0]))
    return shares


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


def measuring_seconds(records: list[RunRecord], step: int, samples: int) -> float | None:
    """How long measuring one run took here (its measures and its shift map of `step` and `samples`), the median
    over these runs; None before any was measured on this server (an imported run's results came measured)."""
    took = []
    for record in records:
        if record.imported is not None:
            continue
        parts = [cached_json(_path(record), record), cached_json(shift_map_path(record, step, samples), record)]
        seconds = [part.get("seconds") if part else None for part in parts]
        if all(isinstance(value, int | float) and 0 < value < 86400 for value in seconds):
            took.append(sum(seconds))
    return statistics.median(took) if took else None
