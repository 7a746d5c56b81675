"""How accuracy changes when digits move: shift maps, position maps, the 2x2 matrix. The pure maths.

Pure functions of arrays and a `predict` callable (uint8 model views -> probabilities), so that
they are tested with fake models; `shift_maps.py` runs them on saved models and caches what
they give in the run's folder. The geometry (field, window, shift) is `field.py`'s.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnistviz.learning.field import FIELD, MAX_SHIFT, ink_box, model_view, place, place_each, shift

Predict = Callable[[np.ndarray], np.ndarray]
LIMITS = {"step": (1, MAX_SHIFT), "samples": (10, 5000)}  # a shift map's grid step (pixels) and test digits
DEFAULT_STEP = 2
DEFAULT_SAMPLES = 300  # 225 shifts x 300 digits: the offset CNN's map in ~25 s on 2 cores; one cell's error ~1.7 points


def shift_grid(step: int = 2, max_shift: int = MAX_SHIFT) -> list[tuple[int, int]]:
    """Every (dx, dy) on a grid of `step` pixels over -max_shift..+max_shift, (0, 0) included."""
    if step < 1 or step > max_shift:
        raise ValueError(f"step must be between 1 and {max_shift}")
    axis = sorted(set(range(0, max_shift + 1, step)) | {-s for s in range(0, max_shift + 1, step)})
    return [(dx, dy) for dy in axis for dx in axis]


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
        """Rebuild a map from JSON; ValueError if it is not one (pairs of whole numbers, accuracies in 0..1)."""
        try:
            moves = [(int(dx), int(dy)) for dx, dy in values["shifts"]]
            accuracy = [float(a) for a in values["accuracy"]]
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"not a shift map ({type(error).__name__})") from error
        if len(moves) != len(accuracy) or not all(0 <= a <= 1 for a in accuracy):
            raise ValueError("not a shift map: one accuracy in 0..1 per shift")
        if not all(abs(dx) <= MAX_SHIFT and abs(dy) <= MAX_SHIFT for dx, dy in moves):
            raise ValueError(f"not a shift map: a shift beyond ±{MAX_SHIFT} px")
        axis = sorted({dx for dx, _ in moves})
        if sorted(moves) != sorted((dx, dy) for dx in axis for dy in axis):
            raise ValueError("not a shift map: its shifts are not a square grid")
        return cls(moves, accuracy)


def sample_indices(count: int, available: int, seed: int = 0) -> np.ndarray:
    """A fixed, seeded sample of test digits (the same for every model, so maps compare)."""
    if count >= available:
        return np.arange(available)
    return np.sort(np.random.default_rng(seed).choice(available, size=count, replace=False))


def shift_accuracy(
    predict: Predict,
    view: str,
    digits: np.ndarray,
    labels: np.ndarray,
    shifts: list[tuple[int, int]],
    progress: Callable[[float], None] | None = None,
) -> ShiftMap:
    """Accuracy of a model at every shift; `digits` are 28x28 centered test digits."""
    accuracy = []
    for i, (dx, dy) in enumerate(shifts):
        probabilities = predict(model_view(place(digits, dx, dy), view))
        accuracy.append(float(np.mean(np.argmax(probabilities, axis=1) == labels)))
        if progress is not None:
            progress((i + 1) / len(shifts))
    return ShiftMap(list(shifts), accuracy)


def positions(field: np.ndarray, step: int = 1) -> list[tuple[int, int]]:
    """Every (dx, dy) that moves the drawing's ink to a place still wholly inside the field, `step` pixels apart.

    The unmoved drawing, (0, 0), is always one of them, and so are the first place on each side, so that
    with each shift filling the `step` places after it (`position_map`) every place is covered.
    """
    box = ink_box(field)
    if box is None:
        return []
    top, bottom, left, right = box

    def along(low: int, high: int) -> list[int]:
        return [d for d in range(low, high + 1) if d % step == 0 or d == low]

    return [(dx, dy) for dy in along(-top, FIELD - bottom) for dx in along(-left, FIELD - right)]


def moved_fields(field: np.ndarray, shifts: list[tuple[int, int]]) -> np.ndarray:
    """The drawing at every shift, as one (len(shifts), 56, 56) batch."""
    return np.stack([shift(field, dx, dy) for dx, dy in shifts]) if shifts else np.zeros((0, FIELD, FIELD), field.dtype)


@dataclass(frozen=True)
class PositionMap:
    """For one model: probability of the intended digit with the drawing's ink moved to each place.

    `probability[row, col]` is for the ink's bounding box with its top-left corner at (row, col)
    of the field; NaN where the ink would leave the field.
    """

    probability: np.ndarray
    digit: int


def position_map(
    predict: Predict, view: str, field: np.ndarray, digit: int, shifts, batch: np.ndarray, step: int = 1
) -> PositionMap:
    """Probability of `digit` at every shift; `batch` is `moved_fields(field, shifts)`, shared by all models.

    With shifts `step` pixels apart, each one's probability fills the step x step places it stands for
    (as far as the drawing still fits there).
    """
    top, bottom, left, right = ink_box(field)
    probabilities = predict(model_view(batch, view))[:, digit] if len(batch) else np.zeros(0)
    out = np.full((FIELD, FIELD), np.nan)
    last_row, last_col = FIELD - (bottom - top), FIELD - (right - left)  # the farthest top-left corners that fit
    for (dx, dy), p in zip(shifts, probabilities, strict=True):
        row, col = top + dy, left + dx
        out[row : min(row + step, last_row + 1), col : min(col + step, last_col + 1)] = p
    return PositionMap(out, digit)


def cross_accuracy(predict: Predict, view: str, centered_digits, offset_fields, labels_centered, labels_offset) -> dict:
    """One row of the 2x2 matrix: accuracy on centered test digits (shift 0) and on the offset test set."""
    centered = place(centered_digits)
    on_centered = np.mean(np.argmax(predict(model_view(centered, view)), axis=1) == labels_centered)
    on_offset = np.mean(np.argmax(predict(model_view(offset_fields, view)), axis=1) == labels_offset)
    return {"centered": float(on_centered), "offset": float(on_offset)}


DIRECTIONS = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dx, dy) != (0, 0)]  # the eight compass points
STABILITY_DISTANCES = (1, 2, 3, 4, 6, 8, 10, 12, 14)
CONSISTENCY_RANGE = 4  # pixels: each of Zhang's two random shifts is drawn from -4..+4 on each axis


def random_moves(count: int, distance: int, seed: int = 0) -> np.ndarray:
    """(count, 2) moves (dx, dy) of `distance` pixels, each in a seeded random one of the eight compass directions."""
    directions = np.array(DIRECTIONS)[np.random.default_rng(seed).integers(0, len(DIRECTIONS), count)]
    return directions * distance


def _answers_at(predict: Predict, view: str, digits: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Probabilities for each digit placed at its own move, predicted as one batch (in input order)."""
    return np.asarray(predict(model_view(place_each(digits, moves), view)))


def consistency(predict: Predict, view: str, digits: np.ndarray, max_shift: int = CONSISTENCY_RANGE, seed: int = 0):
    """Zhang (2019)'s consistency: the share of digits whose top-1 answers agree at two random shifts.

    Each digit is moved twice from the centered position, each time by an independent (dx, dy) drawn
    uniformly from -max_shift..+max_shift on each axis (Zhang shifts random crops the same way), and the
    two answers are compared; the digit's label plays no part.
    """
    moves = np.random.default_rng(seed).integers(-max_shift, max_shift + 1, size=(2, len(digits), 2))
    first = _answers_at(predict, view, digits, moves[0]).argmax(axis=1)
    second = _answers_at(predict, view, digits, moves[1]).argmax(axis=1)
    return float(np.mean(first == second))


def one_pixel_stability_every_direction(predict: Predict, view: str, digits: np.ndarray) -> float:
    """The one-pixel stability with no direction drawn at random: each digit moved in all eight, averaged.

    Directions differ by up to 5 points for one model, so two models whose random-direction figures
    are within their sampling error are told apart by this one (eight times the predictions).
    """
    answer = _answers_at(predict, view, digits, np.zeros((len(digits), 2), int)).argmax(axis=1)
    kept = [
        np.mean(_answers_at(predict, view, digits, np.tile(direction, (len(digits), 1))).argmax(axis=1) == answer)
        for direction in DIRECTIONS
    ]
    return float(np.mean(kept))


@dataclass(frozen=True)
class Flip:
    """A test digit whose answer changed when it moved: where it went, and both answers with their probabilities."""

    index: int  # into the digits measured
    move: tuple[int, int]
    before: int
    before_probability: float
    after: int
    after_probability: float

    def to_dict(self) -> dict:
        return {**self.__dict__, "move": list(self.move)}


@dataclass(frozen=True)
class Stability:
    """How often a digit's answer survives a move from the trained position, by the distance moved.

    Not Zhang's consistency (two random shifts of the same digit): this one starts from the centered
    position the model was trained on, so at one pixel it depends on where that position falls against
    the pooling stride (a gmp CNN with `same` padding: 90% at 1 px, 100% at 4 and 8 px).
    """

    distances: list[int]
    stability: list[float]
    flips: list[Flip]  # at one pixel: the gallery

    @property
    def one_pixel(self) -> float:
        return self.stability[self.distances.index(1)]


def stability(
    predict: Predict,
    view: str,
    digits: np.ndarray,
    distances=STABILITY_DISTANCES,
    seed: int = 0,
    flips_kept: int = 24,
) -> Stability:
    """For each distance: the share of the centered `digits` whose predicted class does not change when each
    moves that many pixels in a random compass direction (diagonals move that many pixels on both axes).

    The first `flips_kept` digits that change at one pixel are kept for the gallery.
    """
    still = np.zeros((len(digits), 2), int)
    before = _answers_at(predict, view, digits, still)
    answer = before.argmax(axis=1)
    shares, flips = [], []
    for distance in distances:
        moves = random_moves(len(digits), distance, seed + distance)
        after = _answers_at(predict, view, digits, moves)
        moved_answer = after.argmax(axis=1)
        shares.append(float(np.mean(moved_answer == answer)))
        if distance == 1:
            for index in np.flatnonzero(moved_answer != answer)[:flips_kept].tolist():
                flips.append(
                    Flip(
                        index,
                        (int(moves[index, 0]), int(moves[index, 1])),
                        int(answer[index]),
                        float(before[index, answer[index]]),
                        int(moved_answer[index]),
                        float(after[index, moved_answer[index]]),
                    )
                )
    return Stability(list(distances), shares, flips)
