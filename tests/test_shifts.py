import numpy as np
import pytest

from mnistviz.analysis import shifts
from mnistviz.analysis.shifts import ShiftMap


def test_shift_grid_is_symmetric_and_includes_the_center():
    grid = shifts.shift_grid(step=2)
    assert len(grid) == 15 * 15 and (0, 0) in grid and (-14, 14) in grid
    assert shifts.shift_grid(step=5) == [(dx, dy) for dy in (-10, -5, 0, 5, 10) for dx in (-10, -5, 0, 5, 10)]


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
    grid = shifts.shift_grid(step=2)
    # the centered model looks at window pixel (14, 14) = field pixel (28, 28): only shift (0, 0) hits it
    centered = shifts.shift_accuracy(fixed_pixel_model(14, 14), "window", digits, labels, grid)
    assert centered.at(0, 0) == 1.0
    assert sum(centered.accuracy) == 1.0
    # the offset model looks at field pixel (30, 24): hit by the shift (dx=-4, dy=2)
    offset = shifts.shift_accuracy(fixed_pixel_model(30, 24), "field", digits, labels, grid)
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
    moves = shifts.positions(field)
    assert len(moves) == (56 - 20 + 1) * (56 - 12 + 1)
    assert (-10, -20) not in moves and (-20, -10) in moves and (24, 26) in moves
    moved = shifts.moved_fields(field, moves)
    assert (moved.reshape(len(moves), -1).sum(axis=1) == field.sum()).all()


def test_position_map_marks_the_ink_corner():
    field = np.zeros((56, 56), np.uint8)
    field[10:14, 20:24] = 255
    moves = shifts.positions(field)
    batch = shifts.moved_fields(field, moves)
    result = shifts.position_map(fixed_pixel_model(0, 0), "field", field, 1, moves, batch)
    # ink reaches the field's (0, 0) only when the ink box's corner is at (0, 0)
    assert result.probability[0, 0] == 1.0
    assert np.nansum(result.probability) == 1.0
    assert np.isnan(result.probability[55, 55])  # the 4x4 ink cannot have its corner there


@pytest.mark.parametrize(
    "saved",
    [
        [],
        {"shifts": [[0, 0]], "accuracy": [1e400]},
        {"shifts": [[0, 0], [2, 0]], "accuracy": [0.5, 0.5]},  # not a square grid: grid() would fail
        {"shifts": [["a", 0]], "accuracy": [0.5]},
        {"shifts": [[0, 0]], "accuracy": [1.5]},
        {"shifts": [[dx, dy] for dx in (-300, 0, 300) for dy in (-300, 0, 300)], "accuracy": [0.5] * 9},  # beyond
    ],
)
def test_a_saved_map_that_is_not_one_is_refused_so_it_is_computed_again(saved):
    with pytest.raises(ValueError, match="not a shift map"):
        ShiftMap.from_dict(saved)


def test_position_maps_every_other_place_fill_the_places_between():
    from mnistviz.analysis import shifts as shift_maths

    field = np.zeros((56, 56), np.uint8)
    field[20:30, 24:30] = 255
    every, other = shift_maths.positions(field), shift_maths.positions(field, step=2)
    assert (0, 0) in other and len(other) < len(every) / 3
    assert min(dx for dx, _ in other) == min(dx for dx, _ in every)  # the first place on the left too
    assert sum(dx % 2 == 0 and dy % 2 == 0 for dx, dy in other) > 0.7 * len(other)

    def inked_columns(views):  # a "model" whose probability of 0 is the mean ink column, scaled to 0..1
        columns = (views > 0).any(axis=1).argmax(axis=1) / 56
        return np.stack([columns] + [np.zeros(len(views))] * 9, axis=1)

    batch = shift_maths.moved_fields(field, other)
    result = shift_maths.position_map(inked_columns, "field", field, 0, other, batch, step=2).probability
    valid = ~np.isnan(result)
    assert valid.sum() == len(every)  # every place the drawing fits is filled, none outside
    assert result[20, 25] == result[20, 24] == 24 / 56  # the place between takes its left neighbour's value


def column_parity_model(images):
    """Answers 0 or 1: whether the ink's leftmost column is even or odd (any horizontal move of one pixel flips it)."""
    columns = np.argmax(images.any(axis=-2), axis=-1)
    out = np.full((len(images), 10), 0.01)
    out[np.arange(len(images)), columns % 2] = 0.91
    return out


def ink_amount_model(images):
    """Answers by how much ink it sees: blind to where the ink is, as long as all of it is seen."""
    out = np.full((len(images), 10), 0.01)
    out[np.arange(len(images)), np.minimum(images.reshape(len(images), -1).astype(int).sum(axis=1) // 255, 9)] = 0.91
    return out


def test_stability_counts_the_digits_whose_answer_survives_a_move_from_the_centre():
    digits = np.zeros((400, 28, 28), np.uint8)
    digits[:, 10:13, 12] = 255  # a short bar: three pixels of ink
    result = shifts.stability(column_parity_model, "field", digits, distances=(1, 2, 3), seed=5)
    for distance, share in zip((1, 2, 3), result.stability, strict=True):
        moves = shifts.random_moves(400, distance, 5 + distance)
        expected = np.mean(moves[:, 0] % 2 == 0)  # only moves with no odd horizontal step keep the parity
        assert share == pytest.approx(expected)
    assert result.stability[1] == 1.0 and 0.15 < result.one_pixel < 0.35  # 2 of 8 directions are vertical
    flip = result.flips[0]
    assert flip.move[0] != 0 and flip.before != flip.after and flip.after_probability == pytest.approx(0.91)
    assert len(result.flips) == 24


def test_every_direction_stability_counts_each_of_the_eight_moves_once():
    digits = np.zeros((50, 28, 28), np.uint8)
    digits[:, 10:13, 12] = 255
    share = shifts.one_pixel_stability_every_direction(column_parity_model, "field", digits)
    assert share == pytest.approx(2 / 8)  # only straight up and straight down keep the column's parity
    assert shifts.one_pixel_stability_every_direction(ink_amount_model, "field", digits) == 1.0


def test_a_model_blind_to_position_is_stable_until_the_digit_leaves_its_view():
    digits = np.zeros((100, 28, 28), np.uint8)
    digits[:, 8:20, 13] = 255
    field_view = shifts.stability(ink_amount_model, "field", digits)
    assert field_view.stability == [1.0] * len(shifts.STABILITY_DISTANCES) and not field_view.flips
    window_view = shifts.stability(ink_amount_model, "window", digits)
    assert window_view.one_pixel == 1.0 and window_view.stability[-1] < 0.2  # 14 px: the bar left the window


def test_consistency_is_zhangs_two_random_shifts_agreeing():
    digits = np.zeros((2000, 28, 28), np.uint8)
    digits[:, 10:13, 12] = 255
    # the column parity agrees at two random shifts when both dx are even or both odd: 9 values of dx
    # in -4..4, 5 even and 4 odd, so (5/9)^2 + (4/9)^2 = 41/81 of the pairs
    share = shifts.consistency(column_parity_model, "field", digits, max_shift=4, seed=3)
    assert share == pytest.approx(41 / 81, abs=0.03)
    assert shifts.consistency(ink_amount_model, "field", digits) == 1.0  # blind to where the ink is


def test_consistency_compares_two_shifts_not_the_centre_with_a_move():
    """A model right at the centre and wrong everywhere else is perfectly stable for no move, not consistent."""

    def reads_only_the_centre(images):
        top = np.argmax(images.any(axis=-1), axis=-1)
        left = np.argmax(images.any(axis=-2), axis=-1)
        out = np.full((len(images), 10), 0.01)
        out[np.arange(len(images)), np.where((top == 24) & (left == 26), 1, 2)] = 0.91
        return out

    digits = np.zeros((500, 28, 28), np.uint8)
    digits[:, 10:13, 12] = 255  # at the centre the ink's top-left is (24, 26) of the field
    share = shifts.consistency(reads_only_the_centre, "field", digits, max_shift=4, seed=0)
    both_moved_off_centre = (1 - 1 / 81) ** 2
    assert share == pytest.approx(both_moved_off_centre + (1 / 81) ** 2, abs=0.02)
    assert shifts.stability(reads_only_the_centre, "field", digits, distances=(1,)).one_pixel == 0.0


def test_consistency_is_seeded():
    digits = np.zeros((300, 28, 28), np.uint8)
    digits[:, 10:13, 12] = 255
    first = shifts.consistency(column_parity_model, "field", digits, seed=7)
    assert first == shifts.consistency(column_parity_model, "field", digits, seed=7)


def test_random_moves_are_seeded_compass_moves_of_the_distance():
    moves = shifts.random_moves(1000, 3, seed=1)
    assert np.array_equal(moves, shifts.random_moves(1000, 3, seed=1))
    assert set(map(tuple, moves.tolist())) == {(3 * dx, 3 * dy) for dx, dy in shifts.DIRECTIONS}
