"""Position maps drawn as pictures: the colour of each place, the grey where the drawing cannot go, the marks."""

import numpy as np

from mnistviz.show import pictures


def drawing() -> np.ndarray:
    drawn = np.zeros((56, 56), np.uint8)
    drawn[10:30, 20:36] = 255  # 20 rows x 16 columns of ink, centred at row 20, column 28
    return drawn


def test_each_place_has_its_probabilitys_colour_at_the_drawings_centre_and_grey_where_it_cannot_go():
    probability = np.full((56, 56), np.nan)
    probability[:37, :41] = 0.0  # every top-left corner where the 20x16 box still fits
    probability[6, 8] = 1.0  # sure, with the box corner at (6, 8): its centre at (16, 16)
    picture = pictures.position_map(probability, drawing(), dx=30, dy=30, scale=1)  # the cross far away
    assert picture.shape == (56, 56, 3)
    assert tuple(picture[16, 16]) == tuple(pictures.VIRIDIS[255])  # yellow where it is sure
    assert tuple(picture[30, 30]) == tuple(pictures.VIRIDIS[0])  # dark where it is not
    assert tuple(picture[5, 5]) == pictures.NOWHERE  # a centre the drawing cannot reach


def test_the_window_is_dashed_and_the_cross_is_where_the_drawing_is_now():
    picture = pictures.position_map(np.zeros((56, 56)), drawing(), dx=2, dy=8, scale=5)  # centre at (28, 30)
    assert picture.shape == (280, 280, 3)
    edge = picture[70, 70:210]
    assert (edge == pictures.WINDOW).all(axis=1).any() and not (edge == pictures.WINDOW).all()  # dashes and gaps
    assert tuple(picture[142, 152]) == pictures.NOW  # the red cross at column 30, row 28


def test_the_colour_scale_runs_from_nothing_to_certain():
    scale = pictures.colour_scale(width=100, height=4)
    assert scale.shape == (4, 100, 3)
    assert tuple(scale[0, 0]) == tuple(pictures.VIRIDIS[0]) and tuple(scale[0, -1]) == tuple(pictures.VIRIDIS[255])


def test_feature_maps_keep_one_scale_per_channel_for_the_centered_and_the_moved_drawing():
    centered = np.zeros((26, 26, 8))
    centered[..., 0] = 2.0
    moved = np.zeros((26, 26, 8))
    moved[..., 0] = 1.0
    picture = pictures.feature_maps(centered, moved, channels=6, size=26)
    assert picture.shape == (2 * 26 + pictures.GAP, 6 * 26 + 5 * pictures.GAP)  # six channels, two rows
    above, below = picture[5, 5], picture[26 + pictures.GAP + 5, 5]
    assert above == 255 and 126 <= below <= 128  # half as bright below: half as strong
    assert picture[5, 26 + pictures.GAP + 5] == 0  # an empty channel is black, not noise scaled up


def test_a_dense_layer_shows_its_units_side_by_side():
    picture = pictures.dense_activations(np.ones(512), np.zeros(512), size=64)
    assert picture.shape == (32, 2 * 64 + pictures.GAP)  # 16x32 units each, 64 pixels wide
    assert picture[:, :64].min() == 255 and picture[:, 64 + pictures.GAP :].max() == 0
