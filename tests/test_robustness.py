import numpy as np
import pytest

from mnistviz import robustness
from mnistviz.robustness import ShiftMap


def test_shift_grid_is_symmetric_and_includes_the_center():
    grid = robustness.shift_grid(step=2)
    assert len(grid) == 15 * 15 and (0, 0) in grid and (-14, 14) in grid
    assert robustness.shift_grid(step=5) == [(dx, dy) for dy in (-10, -5, 0, 5, 10) for dx in (-10, -5, 0, 5, 10)]


def test_place_puts_ink_exactly_where_the_shift_says():
    digit = np.zeros((1, 28, 28), np.uint8)
    digit[0, 0, 0] = 255  # the digit's top-left pixel
    for dx, dy in [(0, 0), (3, -2), (-14, 14), (14, -14)]:
        field = robustness.place(digit, dx, dy)[0]
        assert list(zip(*np.nonzero(field), strict=True)) == [(14 + dy, 14 + dx)]


def test_place_clips_at_the_field_edge():
    digit = np.full((1, 28, 28), 1, np.uint8)
    assert robustness.place(digit, 20, 0).sum() == 28 * 22  # 6 columns fall off the right edge
    assert robustness.place(digit, -30, 0).sum() == 28 * 12  # only 12 columns stay
    assert robustness.place(digit, -50, 0).sum() == 0


def test_the_window_of_a_centered_model_clips_a_moved_digit():
    digit = np.full((1, 28, 28), 1, np.uint8)
    fields = robustness.place(digit, 10, 0)
    window = robustness.view(fields, "centered")
    assert window.shape == (1, 28, 28)
    assert window.sum() == 28 * 18  # 10 columns moved out of the window
    assert robustness.view(fields, "offset").shape == (1, 56, 56)


def fixed_pixel_model(row: int, col: int):
    """Predicts 1 when the pixel (row, col) of its input is inked, else 0."""

    def predict(images):
        inked = images[:, row, col] > 0
        out = np.zeros((len(images), 10))
        out[np.arange(len(images)), inked.astype(int)] = 1.0
        return out

    return predict


def test_the_map_of_a_fixed_pixel_model_is_what_it_must_be():
    # every digit is a single inked pixel at its centre (14, 14) and labelled 1
    digits = np.zeros((5, 28, 28), np.uint8)
    digits[:, 14, 14] = 255
    labels = np.ones(5, int)
    shifts = robustness.shift_grid(step=2)
    # the centered model looks at window pixel (14, 14) = field pixel (28, 28): only shift (0, 0) hits it
    centered = robustness.shift_accuracy(fixed_pixel_model(14, 14), "centered", digits, labels, shifts)
    assert centered.at(0, 0) == 1.0
    assert sum(centered.accuracy) == 1.0
    # the offset model looks at field pixel (30, 24): hit by the shift (dx=-4, dy=2)
    offset = robustness.shift_accuracy(fixed_pixel_model(30, 24), "offset", digits, labels, shifts)
    assert offset.at(-4, 2) == 1.0 and sum(offset.accuracy) == 1.0


def test_shift_map_summaries():
    shift_map = ShiftMap([(0, 0), (2, 0), (0, 2), (2, 2)], [1.0, 0.5, 0.7, 0.1])
    axis, grid = shift_map.grid()
    assert axis == [0, 2] and grid[1, 0] == 0.7  # grid[dy, dx]
    distances, means = shift_map.by_distance()
    assert distances == [0.0, 2.0, 3.0] and means == pytest.approx([1.0, 0.6, 0.1])
    assert shift_map.horizontal() == ([0, 2], [1.0, 0.5])
    assert ShiftMap.from_dict(shift_map.to_dict()) == shift_map


def test_positions_keep_the_ink_inside_the_field():
    field = np.zeros((56, 56), np.uint8)
    field[10:30, 20:32] = 255  # 20 rows x 12 columns of ink
    shifts = robustness.positions(field)
    assert len(shifts) == (56 - 20 + 1) * (56 - 12 + 1)
    assert (-10, -20) not in shifts and (-20, -10) in shifts and (24, 26) in shifts
    moved = robustness.moved_fields(field, shifts)
    assert (moved.reshape(len(shifts), -1).sum(axis=1) == field.sum()).all()


def test_position_map_marks_the_ink_corner():
    field = np.zeros((56, 56), np.uint8)
    field[10:14, 20:24] = 255
    shifts = robustness.positions(field)
    batch = robustness.moved_fields(field, shifts)
    result = robustness.position_map(fixed_pixel_model(0, 0), "offset", field, 1, shifts, batch)
    # ink reaches the field's (0, 0) only when the ink box's corner is at (0, 0)
    assert result.probability[0, 0] == 1.0
    assert np.nansum(result.probability) == 1.0
    assert np.isnan(result.probability[55, 55])  # the 4x4 ink cannot have its corner there


def test_centering_shift_moves_the_box_to_the_middle():
    field = np.zeros((56, 56), np.uint8)
    field[0:20, 0:10] = 255
    dx, dy = robustness.centering_shift(field)
    assert (dx, dy) == (23, 18)
