import numpy as np
import pytest

from mnistviz.analysis import features
from mnistviz.learning.field import shift
from mnistviz.learning.models import build_model


def _digit_field(size: int, row: int, col: int) -> np.ndarray:
    image = np.zeros((size, size), np.uint8)
    image[row : row + 8, col : col + 3] = 255
    image[row : row + 3, col : col + 8] = 255
    return image


def test_agreement_is_one_for_maps_that_moved_with_the_input():
    rng = np.random.default_rng(0)
    centered = np.zeros((20, 20, 4))
    centered[5:10, 5:10] = rng.random((5, 5, 4))
    moved = np.moveaxis(shift(np.moveaxis(centered, -1, 0), 3, -2), 0, -1)
    assert features.agreement(centered, moved, 3, -2, stride=1) == pytest.approx(1.0)
    assert features.agreement(centered, moved, 0, 0, stride=1) < 0.5


def test_convolution_maps_move_with_the_digit_and_dense_activations_do_not():
    centered, moved = _digit_field(28, 8, 8), _digit_field(28, 8, 14)  # the digit moved 6 columns right
    cnn = build_model("cnn", 28, seed=1)
    first, second = features.activations(cnn, "cnn", centered, moved, dx=6, dy=0)
    assert first.centered.shape == (28, 28, 32) and second.centered.shape == (12, 12, 64)
    assert first.agreement > 0.99 and second.agreement > 0.9
    mlp = build_model("mlp", 28, seed=1)
    (dense,) = features.activations(mlp, "mlp", centered, moved, dx=6, dy=0)
    assert dense.centered.shape == (512,) and dense.stride == 0
    assert dense.agreement < first.agreement


def test_drawing_layers_compare_the_drawing_in_the_middle_with_where_the_sliders_put_it():
    from mnistviz.analysis.predictor import SavedModel
    from mnistviz.learning import field

    drawn = np.zeros((56, 56), np.uint8)
    drawn[4:12, 40:43] = 255  # a stroke in the top-right corner of the field
    drawn[4:7, 36:43] = 255
    cnn = SavedModel("run", "CNN offset", "cnn", "offset", build_model("cnn", 56, seed=1))
    first, second = features.drawing_layers(cnn, drawn, dx=-6, dy=4)
    middle = field.centered(drawn)
    assert first.centered.shape[-1] == 32 and first.centered.shape[0] > 28  # the first convolution of the whole field
    expected = features.activations(
        cnn.model, "cnn", middle, field.shift(drawn, -6, 4), *np.subtract((-6, 4), field.centering_shift(drawn))
    )
    assert np.allclose(first.centered, expected[0].centered) and np.allclose(first.moved, expected[0].moved)
    assert first.agreement > 0.99  # the maps moved with the digit, however far apart the two places are
    mlp = SavedModel("run", "MLP centered", "mlp", "centered", build_model("mlp", 28, seed=1))
    (dense,) = features.drawing_layers(mlp, drawn, dx=0, dy=0)
    assert dense.centered.shape == (512,) and not np.allclose(dense.centered, dense.moved)
