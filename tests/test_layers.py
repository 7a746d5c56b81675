import json
import zipfile

import keras
import numpy as np
import pytest
from keras import ops

from mnistviz.learning.layers import BINOMIAL, BlurPool2D
from mnistviz.learning.models import build_cnn


def _blur(x: np.ndarray, padding: str, **kwargs) -> np.ndarray:
    return np.asarray(BlurPool2D(padding, **kwargs)(x))


def _first_version_blur(x, padding: str) -> np.ndarray:
    """The blur as the first version computed it: zeros padded only where a strided "same" convolution pads."""
    kernel = np.repeat(BINOMIAL[:, :, None, None], x.shape[-1], axis=2).astype("float32")
    pooled = ops.max_pool(x, 2, 1, padding)
    return np.asarray(ops.depthwise_conv(pooled, kernel, strides=2, padding="same"))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size", [54, 25, 10, 7])
def test_a_map_of_ones_stays_one_everywhere_corners_included(padding, size):
    out = _blur(np.ones((1, size, size, 3), np.float32), padding)
    assert np.allclose(out, 1.0)  # with zeros at the edges the corners came out 0.56


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size", [54, 25, 10, 56, 28, 27, 14, 7])
def test_blur_pooling_gives_max_poolings_output_size(padding, size):
    image = np.zeros((1, size, size, 3), np.float32)
    expected = keras.layers.MaxPooling2D(2, padding=padding)(image).shape
    layer = BlurPool2D(padding)
    assert layer(image).shape == expected
    assert layer.compute_output_shape((None, size, size, 3)) == (None, *expected[1:])


# The 2x2 maxima at stride 1 read each pixel with its right (lower) neighbour: half a pixel off the
# middle, which mirroring turns round. In valid mode an even side leaves an odd number of maxima, and
# the kept ones (every second, from the first) then include the last: the layer is mirror-symmetric.
# In same mode Keras adds one column of maxima at the right that reads the edge pixel alone, so the
# mirror holds only when the three outer rows and columns are blank, as around an MNIST digit.
@pytest.mark.parametrize(("padding", "size", "blank"), [("valid", 54, 0), ("valid", 10, 0), ("same", 56, 3)])
def test_a_mirrored_input_gives_the_mirrored_output(padding, size, blank):
    image = np.zeros((1, size, size, 2), np.float32)
    inner = size - 2 * blank
    image[:, blank : size - blank, blank : size - blank] = np.random.default_rng(0).random((1, inner, inner, 2))
    out = _blur(image, padding)
    for axis in (1, 2):
        assert np.allclose(np.flip(_blur(np.flip(image, axis), padding), axis), out, atol=1e-6)


def test_a_layer_saved_before_reflection_padding_keeps_its_zeros_and_its_output():
    image = np.random.default_rng(0).random((2, 27, 27, 4)).astype(np.float32)
    for padding in ("valid", "same"):
        config = BlurPool2D(padding).get_config()
        assert config["edges"] == "reflect"
        del config["edges"]
        old = BlurPool2D.from_config(config)
        assert old.edges == "zeros"
        assert np.allclose(np.asarray(old(image)), _first_version_blur(image, padding), atol=1e-6)
        assert not np.allclose(np.asarray(old(image)), _blur(image, padding), atol=1e-3)


def test_a_model_file_saved_before_reflection_padding_predicts_as_it_was_trained(tmp_path):
    model = build_cnn(56, head="gmp", padding="same", pool="blur")
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as new, zipfile.ZipFile(tmp_path / "old.keras", "w") as old:
        for name in new.namelist():
            content = new.read(name)
            if name == "config.json":
                config = json.loads(content)
                for layer in config["config"]["layers"]:
                    layer["config"].pop("edges", None)
                content = json.dumps(config)
            old.writestr(name, content)
    loaded = keras.saving.load_model(tmp_path / "old.keras", safe_mode=True, compile=False)
    assert {layer.edges for layer in loaded.layers if isinstance(layer, BlurPool2D)} == {"zeros"}
    x = np.random.default_rng(0).random((2, 56, 56, 1)).astype(np.float32)
    expected = x
    for layer in model.layers:
        expected = _first_version_blur(expected, layer.padding) if isinstance(layer, BlurPool2D) else layer(expected)
    assert np.allclose(loaded.predict_on_batch(x), np.asarray(expected), atol=1e-6)


def test_a_blur_model_saves_and_reloads_with_identical_predictions(tmp_path):
    model = build_cnn(56, head="gmp", padding="same", pool="blur")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert {layer.edges for layer in loaded.layers if isinstance(layer, BlurPool2D)} == {"reflect"}
    x = np.random.default_rng(0).random((2, 56, 56, 1)).astype(np.float32)
    assert np.array_equal(loaded.predict_on_batch(x), model.predict_on_batch(x))


def test_an_unknown_edge_treatment_is_refused():
    with pytest.raises(ValueError, match="edges must be 'reflect' or 'zeros'"):
        BlurPool2D("same", edges="wrap")
