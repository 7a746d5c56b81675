"""The field's geometry, written once: placing digits, shifts, the window, what a model sees, the ink's box."""

import numpy as np
import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning import field
from mnistviz.learning.field import CENTER, DIGIT, FIELD


def one_pixel(row: int, col: int, size: int = FIELD) -> np.ndarray:
    image = np.zeros((size, size), np.uint8)
    image[row, col] = 255
    return image


def digit_like() -> np.ndarray:
    """A '7'-ish drawing in the middle of the field: a bar and a slanted stroke, 2-3 pixels thick."""
    image = np.zeros((FIELD, FIELD), np.uint8)
    image[19:22, 20:36] = 255
    for row in range(22, 38):
        col = 34 - (row - 22) // 2
        image[row, col : col + 3] = 255
    return image


def test_shift_moves_ink_by_columns_and_rows():
    moved = field.shift(one_pixel(10, 20), dx=3, dy=-4)
    assert np.argwhere(moved).tolist() == [[6, 23]]
    assert moved.dtype == np.uint8 and moved.shape == (FIELD, FIELD)


@pytest.mark.parametrize(("dx", "dy"), [(0, 0), (14, 14), (-14, 14), (13, -14), (-5, 7)])
def test_shift_within_the_field_keeps_all_ink(dx, dy):
    image = digit_like()
    moved = field.shift(image, dx, dy)
    assert moved.sum() == image.sum()
    assert np.array_equal(field.shift(moved, -dx, -dy), image)


def test_shift_clips_what_leaves_the_edge():
    image = np.zeros((FIELD, FIELD), np.uint8)
    image[10:20, 50:56] = 255  # a 10x6 block touching the right edge
    moved = field.shift(image, dx=2, dy=-12)
    assert np.argwhere(moved).min(axis=0).tolist() == [0, 52]
    assert np.argwhere(moved).max(axis=0).tolist() == [7, 55]
    assert moved.sum() == 255 * 8 * 4
    assert not field.shift(image, dx=0, dy=FIELD).any()
    assert not field.shift(image, dx=-FIELD - 3, dy=0).any()


def test_window_is_the_central_28x28_square():
    assert field.window(one_pixel(CENTER, CENTER))[0, 0] == 255
    assert field.window(one_pixel(CENTER + DIGIT - 1, CENTER + DIGIT - 1))[-1, -1] == 255
    assert not field.window(one_pixel(CENTER - 1, 30)).any()
    assert not field.window(one_pixel(30, CENTER + DIGIT)).any()
    assert field.window(digit_like()).shape == (DIGIT, DIGIT)


def test_a_shifted_digit_leaves_the_window_as_far_as_it_moved():
    image = np.zeros((FIELD, FIELD), np.uint8)
    image[CENTER : CENTER + DIGIT, CENTER : CENTER + DIGIT] = 255  # fills the window exactly
    assert field.window(field.shift(image, dx=10, dy=0)).sum() == 255 * DIGIT * (DIGIT - 10)
    assert not field.window(field.shift(image, dx=0, dy=-DIGIT)).any()


def test_model_view_is_the_window_or_the_whole_field():
    drawn = field.shift(digit_like(), 9, -3)
    centered = field.model_view(drawn, "window")
    assert centered.shape == (DIGIT, DIGIT) and centered.dtype == np.uint8
    assert np.array_equal(centered, drawn[14:42, 14:42])
    assert np.array_equal(field.model_view(drawn, "field"), drawn)
    batch = np.stack([drawn, digit_like()])
    assert field.model_view(batch, "window").shape == (2, DIGIT, DIGIT)
    with pytest.raises(MnistvizError, match="unknown view"):
        field.model_view(drawn, "sideways")


def test_centered_digits_are_the_window_or_placed_in_the_middle_of_the_field():
    digits = digit_like()[None, 14:42, 14:42]
    assert field.as_view(digits, "window") is not None and np.array_equal(field.as_view(digits, "window"), digits)
    placed = field.as_view(digits, "field")
    assert placed.shape == (1, FIELD, FIELD) and np.array_equal(field.window(placed), digits)
    assert placed.sum() == digits.sum()  # nothing outside the window
    fields = np.stack([field.shift(digit_like(), 9, -3)])
    assert np.array_equal(field.as_view(fields, "field"), fields)
    assert np.array_equal(field.as_view(fields, "window"), fields[:, 14:42, 14:42])


def test_place_puts_ink_exactly_where_the_shift_says():
    digit = np.zeros((1, 28, 28), np.uint8)
    digit[0, 0, 0] = 255  # the digit's top-left pixel
    for dx, dy in [(0, 0), (3, -2), (-14, 14), (14, -14)]:
        placed = field.place(digit, dx, dy)[0]
        assert list(zip(*np.nonzero(placed), strict=True)) == [(14 + dy, 14 + dx)]


def test_place_clips_at_the_field_edge():
    digit = np.full((1, 28, 28), 1, np.uint8)
    assert field.place(digit, 20, 0).sum() == 28 * 22  # 6 columns fall off the right edge
    assert field.place(digit, -30, 0).sum() == 28 * 12  # only 12 columns stay
    assert field.place(digit, -50, 0).sum() == 0


def test_the_window_of_a_centered_model_clips_a_moved_digit():
    digit = np.full((1, 28, 28), 1, np.uint8)
    fields = field.place(digit, 10, 0)
    window = field.model_view(fields, "window")
    assert window.shape == (1, 28, 28)
    assert window.sum() == 28 * 18  # 10 columns moved out of the window
    assert field.model_view(fields, "field").shape == (1, 56, 56)


def test_centering_shift_moves_the_box_to_the_middle():
    image = np.zeros((56, 56), np.uint8)
    image[0:20, 0:10] = 255
    dx, dy = field.centering_shift(image)
    assert (dx, dy) == (23, 18)


def test_centered_moves_the_ink_box_to_the_middle_and_keeps_all_ink():
    image = np.zeros((56, 56), np.uint8)
    image[0:20, 0:10] = 255
    middle = field.centered(image)
    assert field.ink_box(middle) == (18, 38, 23, 33) and middle.sum() == image.sum()


def test_shift_moves_the_last_two_axes_of_a_batch():
    batch = np.stack([one_pixel(10, 20), one_pixel(30, 5)])
    moved = field.shift(batch, dx=2, dy=1)
    assert np.argwhere(moved).tolist() == [[0, 11, 22], [1, 31, 7]]


def test_the_offset_data_and_a_shifted_centered_digit_are_the_same_geometry():
    """A digit pasted at corner (CENTER + dy, CENTER + dx) is the centered digit moved by (dx, dy)."""
    digits = np.random.default_rng(0).integers(0, 256, size=(3, DIGIT, DIGIT), dtype=np.uint8)
    for dx, dy in [(0, 0), (-14, 13), (5, -9)]:
        corners = np.tile([CENTER + dy, CENTER + dx], (3, 1))
        assert np.array_equal(field.paste(digits, corners), field.place(digits, dx, dy))


def test_ink_in_window_is_the_share_a_window_model_can_still_see():
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[0, :, 0:4] = 255  # a bar on the digit's left edge
    digits[1, :, 24:28] = 255  # and one on its right edge
    assert field.ink_in_window(digits, 0, 0) == 1.0
    # moved 26 px right, the left bar's four columns land in the window's last two (half of it), the right bar out
    assert field.ink_in_window(digits, 26, 0) == pytest.approx((0.5 + 0.0) / 2)
    assert field.ink_in_window(digits[:1], 24, 0) == 1.0 and field.ink_in_window(digits[1:], 1, 0) == 0.75
    assert field.ink_in_window(np.zeros((1, 28, 28), np.uint8), 3, 3) == 0.0  # no ink, nothing seen


@pytest.mark.integration
def test_a_window_model_never_sees_most_of_a_digit_in_the_corner():
    from mnistviz.learning.data import load_variant

    digits = load_variant("centered").x_test[:2000]
    assert field.ink_in_window(digits, 8, 0) > 0.85  # the 92% the Shift Lab quotes
    assert 0.30 < field.ink_in_window(digits, 12, 12) < 0.40  # 35%
    assert 0.23 < field.ink_in_window(digits, -14, -14) < 0.33  # 28%


def test_place_each_moves_every_digit_by_its_own_shift():
    digits = np.stack([one_pixel(3, 4, DIGIT), one_pixel(10, 20, DIGIT)])
    fields = field.place_each(digits, np.array([[2, -1], [-5, 6]]))
    assert np.array_equal(fields[0], field.place(digits[:1], 2, -1)[0])
    assert np.array_equal(fields[1], field.place(digits[1:], -5, 6)[0])
