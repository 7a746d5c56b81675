import numpy as np

from mnistviz import features
from mnistviz.drawing import shift_field
from mnistviz.models import build_model


def _digit_field(size: int, row: int, col: int) -> np.ndarray:
    image = np.zeros((size, size), np.uint8)
    image[row : row + 8, col : col + 3] = 255
    image[row : row + 3, col : col + 8] = 255
    return image


def test_agreement_is_one_for_maps_that_moved_with_the_input():
    rng = np.random.default_rng(0)
    centered = np.zeros((20, 20, 4))
    centered[5:10, 5:10] = rng.random((5, 5, 4))
    moved = shift_field(centered, 3, -2)
    assert features.agreement(centered, moved, 3, -2, stride=1) == 1.0
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
