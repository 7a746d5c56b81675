import keras
import pytest

from mnistviz.models import build_model


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
