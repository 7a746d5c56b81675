"""The border effect, counted: how many paths lead from each field pixel to the CNN's head, checked against TensorFlow."""

import numpy as np
import pytest

from mnistviz.analysis import reach
from mnistviz.show import plots

NOTEBOOK = reach.paths_to_head("notebook")
SAME = reach.paths_to_head("same")


def test_the_notebook_padding_reaches_rows_and_columns_54_and_55_through_no_path_and_every_other_pixel_through_some():
    assert NOTEBOOK.shape == (56, 56)
    assert not NOTEBOOK[54:].any() and not NOTEBOOK[:, 54:].any()
    assert (NOTEBOOK[:54, :54] > 0).all()


def test_same_padding_reaches_every_pixel():
    assert (SAME > 0).all()


def test_an_inner_pixel_reaches_the_head_through_27_times_27_paths_with_either_padding():
    # three 3x3 convolutions, three choices of output per axis each; a pooling has one output per pixel
    assert NOTEBOOK.max() == SAME.max() == 27 * 27
    assert NOTEBOOK[27, 27] == SAME[27, 27] == 27 * 27


@pytest.mark.parametrize("paths", [NOTEBOOK, SAME], ids=["notebook", "same"])
def test_each_of_the_four_borders_is_reached_less_than_the_middle(paths):
    share = reach.relative_reach(paths)
    _, middle = reach.border_reach(paths)
    for side in (share[:2], share[-2:], share[:, :2], share[:, -2:]):
        assert side.mean() < middle / 2


def test_the_notebook_padding_dims_all_four_sides_alike_once_the_dropped_rows_are_set_aside():
    reached = NOTEBOOK[:54, :54]
    assert (reached == reached[::-1]).all() and (reached == reached.T).all()
    assert NOTEBOOK[0, 0] == NOTEBOOK[0, 53] == NOTEBOOK[53, 0] == NOTEBOOK[53, 53] == 1  # one path from a corner


def test_the_notebook_padding_dims_the_border_far_more_than_same_padding():
    notebook_ring, notebook_middle = reach.border_reach(NOTEBOOK, width=2)
    same_ring, same_middle = reach.border_reach(SAME, width=2)
    # measured: ring of width 2, 2.05% (notebook) against 40.5% (same); the window 99.2% against 100%
    assert notebook_ring < same_ring / 10
    assert notebook_middle > 0.95 and same_middle == 1.0
    # the corner pixel: 1 path of 729 (0.14%) against 64 (8.8%)
    assert reach.relative_reach(SAME)[0, 0] > 50 * reach.relative_reach(NOTEBOOK)[0, 0]


def test_an_unknown_padding_is_refused():
    with pytest.raises(ValueError, match="padding"):
        reach.paths_to_head("reflect")


def linear_counting_network(padding: str, size: int):
    """The CNN with one channel, all-ones 3x3 kernels, no bias or activation, and each pooling a 2x2 stride-2 sum.

    The gradient of the sum of its last map with respect to a pixel is then the number of paths from that pixel.
    """
    import keras

    mode = "same" if padding == "same" else "valid"
    layers = [keras.Input(shape=(size, size, 1))]
    for _ in range(reach.BLOCKS):
        layers.append(keras.layers.Conv2D(1, 3, padding=mode, use_bias=False, kernel_initializer="ones"))
        layers.append(keras.layers.Conv2D(1, 2, strides=2, padding=mode, use_bias=False, kernel_initializer="ones"))
    return keras.Sequential(layers)


@pytest.mark.parametrize("size", [56, 23])  # 23: odd maps before each pooling, where same padding pads one side
@pytest.mark.parametrize("padding", ["notebook", "same"])
def test_the_counts_match_the_gradient_of_a_linear_all_ones_network_in_tensorflow(padding, size):
    import tensorflow as tf

    network = linear_counting_network(padding, size)
    field = tf.zeros((1, size, size, 1))
    with tf.GradientTape() as tape:
        tape.watch(field)
        total = tf.reduce_sum(network(field))
    gradient = tape.gradient(total, field).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(gradient, reach.paths_to_head(padding, size))


def test_the_notebook_cnn_ignores_rows_and_columns_54_and_55_but_not_row_0_or_row_53():
    from mnistviz.learning.models import build_cnn

    model = build_cnn(56, seed=0, head="gmp")
    fields = np.random.default_rng(0).random((8, 56, 56, 1), dtype=np.float32)
    before = model(fields, training=False).numpy()

    def change(rows=slice(0), cols=slice(0)) -> float:
        """The largest change of a probability when these rows and columns of every field are saturated."""
        saturated = fields.copy()
        saturated[:, rows] = 1.0
        saturated[:, :, cols] = 1.0
        return float(np.abs(model(saturated, training=False).numpy() - before).max())

    assert change(rows=slice(54, 56), cols=slice(54, 56)) == 0
    assert change(rows=slice(0, 1)) > 0  # measured: 4.4e-4 (untrained, so every change is small)
    assert change(rows=slice(53, 54)) > 0  # 2.1e-4: the last row the head reads


def test_reach_figure_draws_one_heatmap_per_padding_on_one_shared_scale():
    figure = plots.reach_figure({reach.PADDINGS[name]: reach.paths_to_head(name) for name in reach.PADDINGS})
    assert [trace.type for trace in figure.data] == ["heatmap", "heatmap"]
    assert [(trace.zmin, trace.zmax) for trace in figure.data] == [(0, 1), (0, 1)]
    assert [annotation.text for annotation in figure.layout.annotations] == [
        "notebook padding (valid)",
        "same padding",
    ]
    notebook, same = figure.data
    assert np.asarray(notebook.z)[27, 27] == 1 and np.asarray(notebook.z)[55, 55] == 0
    assert np.asarray(same.z)[0, 0] == pytest.approx(64 / 729)
    assert [trace.showscale for trace in figure.data] == [False, True]  # one colour bar for both
    assert figure.layout.yaxis.autorange == "reversed" and figure.layout.yaxis2.scaleanchor == "x2"


@pytest.mark.integration
def test_a_digit_in_the_corner_reaches_the_head_less_with_valid_padding():
    from mnistviz.analysis import measures

    corner = measures.ink_reach_at((12, 12))
    assert 0.65 < corner["notebook"] < 0.78 and corner["same"] > 0.98  # the 72% and 100% the Lab quotes
    assert measures.ink_reach_at((0, 0))["notebook"] > 0.99  # in the middle every pixel is reached fully
