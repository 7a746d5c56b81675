"""The notebook's MLP and CNN, layer by layer, for the 28x28 window and the 56x56 field."""

import functools

import keras
import numpy as np

from mnistviz.learning.data import to_float
from mnistviz.learning.layers import BINOMIAL, BlurPool2D


def build_mlp(image_size: int, seed: int = 0) -> keras.Model:
    """Flatten -> Dense 512 relu -> Dense 256 relu -> Dense 10 softmax."""
    init = keras.initializers.GlorotUniform
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size)),
            keras.layers.Flatten(),
            keras.layers.Dense(512, activation="relu", kernel_initializer=init(seed)),
            keras.layers.Dense(256, activation="relu", kernel_initializer=init(seed + 1)),
            keras.layers.Dense(10, activation="softmax", kernel_initializer=init(seed + 2)),
        ],
        name=f"mlp_{image_size}",
    )


def build_cnn(
    image_size: int, seed: int = 0, head: str = "flatten", padding: str = "notebook", pool: str = "max"
) -> keras.Model:
    """Three conv/pool blocks, then the head, Dense 64 relu -> Dense 10 softmax.

    The notebook's CNN (`flatten`, `notebook`, `max`): the first convolution pads ("same") on 28x28
    and does not on 56x56; the offset CNN has 10 outputs (the notebook's Dense(100) was a mistake).
    `padding="same"` pads every convolution and pooling, so no row or column of the field is cut
    off; `pool="blur"` pools with BlurPool2D; `head` "gmp" or "gap" replaces Flatten with global
    max or average pooling, which reads a feature wherever it is.
    """
    init = keras.initializers.GlorotUniform
    same = padding == "same"
    first_padding = "same" if same or image_size == 28 else "valid"
    later_padding = "same" if same else "valid"

    def pooling():
        if pool == "blur":
            return BlurPool2D(later_padding)
        return keras.layers.MaxPooling2D(2, padding=later_padding)

    heads = {
        "flatten": keras.layers.Flatten,
        "gmp": keras.layers.GlobalMaxPooling2D,
        "gap": keras.layers.GlobalAveragePooling2D,
    }
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 1)),
            keras.layers.Conv2D(32, 3, activation="relu", padding=first_padding, kernel_initializer=init(seed)),
            pooling(),
            keras.layers.Conv2D(64, 3, activation="relu", padding=later_padding, kernel_initializer=init(seed + 1)),
            pooling(),
            keras.layers.Conv2D(64, 3, activation="relu", padding=later_padding, kernel_initializer=init(seed + 2)),
            pooling(),
            heads[head](),
            keras.layers.Dense(64, activation="relu", kernel_initializer=init(seed + 3)),
            keras.layers.Dense(10, activation="softmax", kernel_initializer=init(seed + 4)),
        ],
        name=f"cnn_{image_size}"
        if (head, padding, pool) == ("flatten", "notebook", "max")
        else f"cnn_{head}_{padding}_{pool}",
    )


def build_model(arch: str, image_size: int, seed: int = 0) -> keras.Model:
    """The notebook's model `arch` ("mlp" or "cnn") for square inputs of `image_size`."""
    builders = {"mlp": build_mlp, "cnn": build_cnn}
    return builders[arch](image_size, seed)


def parameter_count(spec) -> int:
    """How many weights the model of `spec` has (each distinct model built once, never trained)."""
    return _count(spec.arch, spec.image_size, spec.head, spec.padding, spec.pool)


@functools.lru_cache(maxsize=32)
def _count(arch: str, image_size: int, head: str, padding: str, pool: str) -> int:
    return int(_untrained(arch, image_size, head, padding, pool).count_params())


def multiply_adds(spec) -> int:
    """The multiply-adds one digit costs the model of `spec`: fixed by the model, unlike wall time on a busy server.

    Convolutions, dense layers and blur pooling's 3x3 depthwise blur count; pooling's maxima, the
    biases (one addition each) and the activations are not multiply-adds and do not.
    """
    return _multiply_adds(spec.arch, spec.image_size, spec.head, spec.padding, spec.pool)


@functools.lru_cache(maxsize=32)
def _multiply_adds(arch: str, image_size: int, head: str, padding: str, pool: str) -> int:
    total = 0
    for layer in _untrained(arch, image_size, head, padding, pool).layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_height, kernel_width = layer.kernel_size
            total += height * width * kernel_height * kernel_width * layer.input.shape[-1] * filters
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
        elif isinstance(layer, BlurPool2D):
            _, height, width, channels = layer.output.shape
            total += height * width * channels * BINOMIAL.size
    return int(total)


def _untrained(arch: str, image_size: int, head: str, padding: str, pool: str) -> keras.Model:
    if arch == "mlp":
        return build_mlp(image_size)
    return build_cnn(image_size, 0, head, padding, pool)


def model_for(spec) -> keras.Model:
    """The (untrained) model a run spec describes, the notebook's or a Shift Lab variant."""
    if spec.arch == "mlp":
        return build_mlp(spec.image_size, spec.seed)
    return build_cnn(spec.image_size, spec.seed, spec.head, spec.padding, spec.pool)


def compile_model(model: keras.Model, learning_rate: float, decay_steps: int = 0) -> None:
    """Adam and sparse categorical cross-entropy, as in the notebook; with `decay_steps`, a cosine decay to zero."""
    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def model_input(images: np.ndarray, arch: str) -> np.ndarray:
    """uint8 images (n, size, size) -> the float32 array the model takes (CNNs add a channel)."""
    x = to_float(images)
    return x[..., None] if arch == "cnn" else x


def answers_problem(outputs: np.ndarray) -> str | None:
    """Why a model's outputs for some images are not probabilities of the ten digits, or None when they are.

    A run whose loss diverged saves NaN weights, and a model from elsewhere may end without its softmax: either
    would put "nan% sure" or "1e30% sure" on every student's Draw page.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 2 or outputs.shape[1] != 10:
        return f"it answers with shape {outputs.shape}, not ten probabilities"
    if not np.all(np.isfinite(outputs)):
        return "its answers are not numbers (NaN or infinite: did its training diverge?)"
    if outputs.min() < -1e-6 or outputs.max() > 1 + 1e-6 or not np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return "its answers are not probabilities (they do not lie in 0..1 and add up to 1)"
    return None


def loaded_model_problem(model, arch: str, image_size: int) -> str | None:
    """Why a saved model, just loaded, cannot serve as the `arch` its settings describe, or None when it can.

    Its shape must be the settings' and its answers probabilities (`answers_problem`), asked of a blank image and
    one inked everywhere. That first call traces the model: the dashboard makes it once, before anyone draws.
    """
    expected = (None, image_size, image_size) + ((1,) if arch == "cnn" else ())
    if tuple(model.input_shape) != expected or tuple(model.output_shape) != (None, 10):
        return f"its model takes {model.input_shape} and gives {model.output_shape}, not {expected} and (None, 10)"
    probes = np.zeros((2, image_size, image_size), np.uint8)
    probes[1] = np.random.default_rng(0).integers(0, 256, probes.shape[1:], dtype=np.uint8)
    return answers_problem(model.predict_on_batch(model_input(probes, arch)))
