"""The 56x56 field, the window a centered model sees, shifts, and what a model is given: written once.

A centered digit sits at (CENTER, CENTER) = (14, 14) of the field, exactly in its middle. A shift
(dx, dy) moves content dx columns right and dy rows down; what leaves the field is lost. A model
trained on centered digits sees only the central 28x28 window; an offset model sees the whole field.
Pure numpy: the data, the shift maps, the drawing and the feature maps all call these.
"""

import numpy as np

from mnistviz.errors import MnistvizError

DIGIT = 28
FIELD = 56
CENTER = (FIELD - DIGIT) // 2  # a centered digit's top-left corner in the field
MAX_SHIFT = FIELD - DIGIT - CENTER  # 14: the farthest a whole centered digit can move and stay in the field
VARIANTS = ("centered", "offset")  # the data a model was trained on
VIEWS = ("window", "field")  # what a model sees: the central 28x28 window (the notebook's centered models), or all


def paste(digits: np.ndarray, corners: np.ndarray, size: int = FIELD) -> np.ndarray:
    """Each (28, 28) digit in an empty field with its top-left corner at (row, col); corners keep it whole.

    A plain loop of slice copies: fancy indexing would build (n, 28, 28) int64 index arrays
    (over 1 GB for 60,000 digits) just to copy 188 MB.
    """
    count, height, width = digits.shape
    out = np.zeros((count, size, size), dtype=digits.dtype)
    for i, (row, col) in enumerate(np.asarray(corners).tolist()):
        out[i, row : row + height, col : col + width] = digits[i]
    return out


def shift(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The images (last two axes: rows, columns) with their content moved dx columns right and dy rows down."""
    images = np.asarray(images)
    height, width = images.shape[-2:]
    out = np.zeros_like(images)
    if abs(dx) >= width or abs(dy) >= height:
        return out
    out[..., max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = images[
        ..., max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return out


def place(digits: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """28x28 digits in empty fields at the centered position moved by (dx, dy), clipped at the field's edge.

    The same as `shift(paste(digits, centered corners), dx, dy)`, in one slice copy for the whole batch
    (a shift map places 300 digits at 225 shifts).
    """
    out = np.zeros((len(digits), FIELD, FIELD), dtype=digits.dtype)
    top, left = CENTER + dy, CENTER + dx
    rows = slice(max(top, 0), min(top + DIGIT, FIELD))
    cols = slice(max(left, 0), min(left + DIGIT, FIELD))
    if rows.start < rows.stop and cols.start < cols.stop:
        out[:, rows, cols] = digits[:, rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]
    return out


def place_each(digits: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Each 28x28 digit in its own empty field, moved by its own (dx, dy): one batch for moves drawn at random."""
    out = np.zeros((len(digits), FIELD, FIELD), dtype=digits.dtype)
    for i, (dx, dy) in enumerate(np.asarray(moves).tolist()):
        out[i] = place(digits[i : i + 1], dx, dy)[0]
    return out


def window(fields: np.ndarray) -> np.ndarray:
    """The central 28x28 square of each field: all that a centered model sees."""
    return np.asarray(fields)[..., CENTER : CENTER + DIGIT, CENTER : CENTER + DIGIT]


def model_view(fields: np.ndarray, view: str) -> np.ndarray:
    """What a model with this `view` receives of these fields: the window, or the whole field."""
    if view == "window":
        return window(fields)
    if view == "field":
        return np.asarray(fields)
    raise MnistvizError(f"unknown view '{view}': choose one of {', '.join(VIEWS)}")


def as_view(images: np.ndarray, view: str) -> np.ndarray:
    """A data set's images (28x28 centered digits or 56x56 fields) as a model with this `view` receives them.

    Centered digits are the window itself, or placed in the middle of an empty field.
    """
    images = np.asarray(images)
    if images.shape[-1] == DIGIT:
        return images if view == "window" else place(images)
    return model_view(images, view)


def ink_in_window(digits: np.ndarray, dx: int, dy: int) -> float:
    """The share of the digits' ink inside the window once they are moved by (dx, dy): what a window model can see.

    At (12, 12) about a third of a test digit's ink is left in it: all a window model is given of the digit there.
    """
    moved = place(np.asarray(digits), dx, dy).astype(np.float64)
    total = moved.sum(axis=(-2, -1))
    inside = window(moved).sum(axis=(-2, -1))
    return float(np.mean(np.divide(inside, total, out=np.zeros_like(total), where=total > 0)))


def ink_box(field: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink, bottom/right exclusive; None when empty."""
    field = np.asarray(field)
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


def marker(field: np.ndarray, dx: int, dy: int) -> tuple[tuple[int, int], tuple[float, float]]:
    """The drawing's ink box once moved by (dx, dy): its (height, width), and its centre as (row, column)."""
    top, bottom, left, right = ink_box(field)
    return (bottom - top, right - left), ((top + bottom) / 2 + dy, (left + right) / 2 + dx)


def centered(field: np.ndarray) -> np.ndarray:
    """The drawing with its ink's bounding box moved to the middle of the field."""
    return shift(field, *centering_shift(field))
