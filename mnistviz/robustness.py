"""How accuracy changes when digits move: shift maps, distance curves, the 2x2 matrix.

Pure functions of arrays and a `predict` callable (uint8 model views -> probabilities), so that
they are tested with fake models; `analysis_jobs.py` runs them on saved Keras models.
Frames and windows as in DESIGN.md: a centered digit sits at (14, 14) of the 56x56 field, a
shift (dx, dy) moves it by dx columns and dy rows, a centered model sees the central window.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnistviz.data import CENTER, DIGIT, FIELD
from mnistviz.drawing import shift_field

Predict = Callable[[np.ndarray], np.ndarray]
MAX_SHIFT = FIELD - DIGIT - CENTER  # 14: the farthest a whole digit can move and stay in the field


def shift_grid(step: int = 2, max_shift: int = MAX_SHIFT) -> list[tuple[int, int]]:
    """Every (dx, dy) on a grid of `step` pixels over -max_shift..+max_shift, (0, 0) included."""
    if step < 1 or step > max_shift:
        raise ValueError(f"step must be between 1 and {max_shift}")
    axis = sorted(set(range(0, max_shift + 1, step)) | {-s for s in range(0, max_shift + 1, step)})
    return [(dx, dy) for dy in axis for dx in axis]


def place(digits: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """28x28 digits put into empty fields at the centered position moved by (dx, dy), clipped at the field's edge."""
    count = len(digits)
    out = np.zeros((count, FIELD, FIELD), dtype=digits.dtype)
    top, left = CENTER + dy, CENTER + dx
    rows = slice(max(top, 0), min(top + DIGIT, FIELD))
    cols = slice(max(left, 0), min(left + DIGIT, FIELD))
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return out
    out[:, rows, cols] = digits[:, rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]
    return out


def view(fields: np.ndarray, data: str) -> np.ndarray:
    """What a model trained on `data` receives: the central 28x28 window, or the whole field."""
    if data == "centered":
        return fields[..., CENTER : CENTER + DIGIT, CENTER : CENTER + DIGIT]
    return fields


@dataclass(frozen=True)
class ShiftMap:
    """Accuracy for each shift of a fixed sample of test digits."""

    shifts: list[tuple[int, int]]
    accuracy: list[float]

    def at(self, dx: int, dy: int) -> float:
        return self.accuracy[self.shifts.index((dx, dy))]

    def grid(self) -> tuple[list[int], np.ndarray]:
        """(axis values, accuracy[dy index, dx index]) for a heatmap."""
        axis = sorted({dx for dx, _ in self.shifts})
        index = {value: i for i, value in enumerate(axis)}
        out = np.full((len(axis), len(axis)), np.nan)
        for (dx, dy), accuracy in zip(self.shifts, self.accuracy, strict=True):
            out[index[dy], index[dx]] = accuracy
        return axis, out

    def by_distance(self) -> tuple[list[float], list[float]]:
        """Mean accuracy over the shifts at each distance (rounded to 0.5 px) from the centered position."""
        distances = np.round(np.hypot(*np.array(self.shifts).T) * 2) / 2
        accuracy = np.array(self.accuracy)
        values = sorted(set(distances.tolist()))
        return values, [float(accuracy[distances == d].mean()) for d in values]

    def horizontal(self) -> tuple[list[int], list[float]]:
        """Accuracy along dy = 0."""
        row = sorted((dx, acc) for (dx, dy), acc in zip(self.shifts, self.accuracy, strict=True) if dy == 0)
        return [dx for dx, _ in row], [acc for _, acc in row]

    def to_dict(self) -> dict:
        return {"shifts": [list(s) for s in self.shifts], "accuracy": self.accuracy}

    @classmethod
    def from_dict(cls, values: dict) -> "ShiftMap":
        return cls([tuple(s) for s in values["shifts"]], [float(a) for a in values["accuracy"]])


def sample_indices(count: int, available: int, seed: int = 0) -> np.ndarray:
    """A fixed, seeded sample of test digits (the same for every model, so maps compare)."""
    if count >= available:
        return np.arange(available)
    return np.sort(np.random.default_rng(seed).choice(available, size=count, replace=False))


def shift_accuracy(
    predict: Predict,
    data: str,
    digits: np.ndarray,
    labels: np.ndarray,
    shifts: list[tuple[int, int]],
    progress: Callable[[float], None] | None = None,
) -> ShiftMap:
    """Accuracy of a model at every shift; `digits` are 28x28 centered test digits."""
    accuracy = []
    for i, (dx, dy) in enumerate(shifts):
        probabilities = predict(view(place(digits, dx, dy), data))
        accuracy.append(float(np.mean(np.argmax(probabilities, axis=1) == labels)))
        if progress is not None:
            progress((i + 1) / len(shifts))
    return ShiftMap(list(shifts), accuracy)


def ink_box(field: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink, bottom/right exclusive; None when empty."""
    rows = np.flatnonzero(field.any(axis=1))
    cols = np.flatnonzero(field.any(axis=0))
    if len(rows) == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centering_shift(field: np.ndarray) -> tuple[int, int]:
    """The (dx, dy) that moves the ink's bounding box to the middle of the field."""
    box = ink_box(field)
    if box is None:
        return 0, 0
    top, bottom, left, right = box
    return (FIELD - left - right) // 2, (FIELD - top - bottom) // 2


def positions(field: np.ndarray) -> list[tuple[int, int]]:
    """Every (dx, dy) that moves the drawing's ink to a place still wholly inside the field."""
    box = ink_box(field)
    if box is None:
        return []
    top, bottom, left, right = box
    return [(dx, dy) for dy in range(-top, FIELD - bottom + 1) for dx in range(-left, FIELD - right + 1)]


def moved_fields(field: np.ndarray, shifts: list[tuple[int, int]]) -> np.ndarray:
    """The drawing at every shift, as one (len(shifts), 56, 56) batch."""
    return (
        np.stack([shift_field(field, dx, dy) for dx, dy in shifts])
        if shifts
        else np.zeros((0, FIELD, FIELD), field.dtype)
    )


@dataclass(frozen=True)
class PositionMap:
    """For one model: probability of the intended digit with the drawing's ink moved to each place.

    `probability[row, col]` is for the ink's bounding box with its top-left corner at (row, col)
    of the field; NaN where the ink would leave the field.
    """

    probability: np.ndarray
    digit: int


def position_map(predict: Predict, data: str, field: np.ndarray, digit: int, shifts, batch: np.ndarray) -> PositionMap:
    """Probability of `digit` at every shift; `batch` is `moved_fields(field, shifts)`, shared by all models."""
    top, _, left, _ = ink_box(field)
    probabilities = predict(view(batch, data))[:, digit] if len(batch) else np.zeros(0)
    out = np.full((FIELD, FIELD), np.nan)
    for (dx, dy), p in zip(shifts, probabilities, strict=True):
        out[top + dy, left + dx] = p
    return PositionMap(out, digit)


def cross_accuracy(predict: Predict, data: str, centered_digits, offset_fields, labels_centered, labels_offset) -> dict:
    """One row of the 2x2 matrix: accuracy on centered test digits (shift 0) and on the offset test set."""
    centered = place(centered_digits, 0, 0)
    on_centered = np.mean(np.argmax(predict(view(centered, data)), axis=1) == labels_centered)
    on_offset = np.mean(np.argmax(predict(view(offset_fields, data)), axis=1) == labels_offset)
    return {"centered": float(on_centered), "offset": float(on_offset)}
