import keras
import numpy as np
import pytest

from mnistviz.learning.layers import BlurPool2D
from mnistviz.learning.models import build_cnn, build_model, model_for, multiply_adds, parameter_count
from mnistviz.learning.spec import RunSpec


@pytest.mark.parametrize(
    ("arch", "size", "params"),
    [("mlp", 28, 535818), ("mlp", 56, 1740042), ("cnn", 28, 72842), ("cnn", 56, 158858)],
)
def test_parameter_counts_match_the_notebook(arch, size, params):
    assert build_model(arch, size).count_params() == params


def test_mlp_layers_are_the_notebooks():
    model = build_model("mlp", 28)
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense", "Dense"]
    assert [layer.units for layer in model.layers[1:]] == [512, 256, 10]
    assert [layer.activation.__name__ for layer in model.layers[1:]] == ["relu", "relu", "softmax"]


@pytest.mark.parametrize(("size", "padding"), [(28, "same"), (56, "valid")])
def test_cnn_layers_are_the_notebooks(size, padding):
    model = build_model("cnn", size)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D"] * 3 + ["Flatten", "Dense", "Dense"]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 64]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 3
    assert [c.padding for c in convs] == [padding, "valid", "valid"]
    assert model.layers[-1].units == 10  # the notebook's offset CNN had 100 by mistake


def test_same_seed_gives_same_initial_weights():
    a, b = build_model("cnn", 28, seed=5), build_model("cnn", 28, seed=5)
    assert all((wa == wb).all() for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True))


# The Shift Lab's variants


def test_a_global_pooling_head_reads_the_field_with_fewer_parameters():
    for head, layer in (("gmp", keras.layers.GlobalMaxPooling2D), ("gap", keras.layers.GlobalAveragePooling2D)):
        model = build_cnn(56, head=head)
        assert model.input_shape == (None, 56, 56, 1) and model.output_shape == (None, 10)
        assert isinstance(model.layers[6], layer)
        assert model.count_params() == 60_554  # the notebook's offset CNN: 158,858
    assert not [layer for layer in build_cnn(56, head="gmp").layers if isinstance(layer, keras.layers.Flatten)]


def test_same_padding_keeps_every_row_and_column_of_the_field():
    notebook = build_cnn(56, head="gmp")
    same = build_cnn(56, head="gmp", padding="same")
    assert [layer.output.shape[1] for layer in notebook.layers[:6]] == [54, 27, 25, 12, 10, 5]
    assert [layer.output.shape[1] for layer in same.layers[:6]] == [56, 28, 28, 14, 14, 7]
    assert {layer.padding for layer in same.layers[:6]} == {"same"}


def test_blur_pooling_pools_to_the_same_size_as_max_pooling():
    for padding in ("notebook", "same"):
        blurred, plain = build_cnn(56, pool="blur", padding=padding), build_cnn(56, padding=padding)
        assert [layer.output.shape for layer in blurred.layers] == [layer.output.shape for layer in plain.layers]
        assert sum(isinstance(layer, BlurPool2D) for layer in blurred.layers) == 3


def test_blur_pooling_is_max_then_a_binomial_blur_then_every_second_pixel():
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, 3, 3, 0] = 1.0  # one bright pixel
    out = np.asarray(BlurPool2D("same")(image))[0, :, :, 0]
    # max over 2x2 at stride 1 spreads it to rows/cols 2..3; the blur then weighs the kept pixels 1/4, 1/2, 1/4
    assert out.shape == (4, 4)
    assert np.isclose(out.sum(), 1.0) and np.isclose(out[1, 1], 0.5625)
    moved_image = np.roll(image, 1, axis=2)
    moved = np.asarray(BlurPool2D("same")(moved_image))[0, :, :, 0]
    pool = keras.layers.MaxPooling2D(2, padding="same")
    max_change = np.abs(np.asarray(pool(moved_image)) - np.asarray(pool(image))).sum()
    assert max_change == 2.0  # max pooling moves the pixel to another output altogether
    assert np.isclose(np.abs(moved - out).sum(), 1.0)  # blur pooling moves half of it


@pytest.mark.parametrize("changes", [{"pool": "blur"}, {"head": "gmp", "padding": "same", "pool": "blur"}])
def test_a_lab_model_saves_and_loads_with_safe_mode(tmp_path, changes):
    spec = RunSpec("cnn", "centered", **changes)
    model = model_for(spec)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    image = np.random.default_rng(0).random((2, spec.image_size, spec.image_size, 1)).astype(np.float32)
    assert np.allclose(loaded.predict_on_batch(image), model.predict_on_batch(image), atol=1e-6)


def test_the_parameter_count_of_any_spec_is_its_models():
    assert parameter_count(RunSpec("mlp", "offset")) == 1_740_042  # 3136 x 512 + 512 + 512 x 256 + 256 + 2570
    assert parameter_count(RunSpec("cnn", "centered", head="gap", pool="blur")) == 60_554
    assert (
        parameter_count(RunSpec("cnn", "offset", padding="same"))
        == model_for(RunSpec("cnn", "offset", padding="same")).count_params()
    )


# What one digit costs


def test_the_mlp_costs_one_multiply_add_per_weight_without_its_biases():
    assert multiply_adds(RunSpec("mlp", "centered")) == 784 * 512 + 512 * 256 + 256 * 10


def test_the_notebook_cnn_costs_what_its_layer_sizes_say():
    spec = RunSpec("cnn", "centered")
    assert [layer.output.shape[1] for layer in model_for(spec).layers[:6]] == [28, 14, 12, 6, 4, 2]
    convolutions = 28 * 28 * 32 * 9 * 1 + 12 * 12 * 64 * 9 * 32 + 4 * 4 * 64 * 9 * 64  # out size x kernel x inputs
    dense = 2 * 2 * 64 * 64 + 64 * 10
    assert multiply_adds(spec) == convolutions + dense


def test_a_gmp_cnn_on_the_field_costs_more_than_the_notebooks_cnn_on_the_window():
    field = RunSpec("cnn", "centered", head="gmp")
    assert field.image_size == 56
    assert multiply_adds(field) > multiply_adds(RunSpec("cnn", "centered"))


def test_blur_pooling_adds_exactly_its_blur():
    blurred = RunSpec("cnn", "offset", head="gmp", padding="same", pool="blur")
    plain = RunSpec("cnn", "offset", head="gmp", padding="same")
    blur = (28 * 28 * 32 + 14 * 14 * 64 + 7 * 7 * 64) * 9  # a 3x3 depthwise blur at every kept pixel
    assert multiply_adds(blurred) - multiply_adds(plain) == blur
