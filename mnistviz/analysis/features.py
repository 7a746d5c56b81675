"""Feature maps: what a model's first layers compute for a drawing, centered and moved.

A convolution is shift-equivariant: moving the input moves its feature maps (by dx / stride).
A dense layer is not: its activations for a moved digit are a different pattern altogether.
`agreement` puts one number on that for each layer.
"""

from dataclasses import dataclass

import keras
import numpy as np

from mnistviz.learning.field import centering_shift, model_view, shift
from mnistviz.learning.models import model_input


@dataclass(frozen=True)
class LayerActivations:
    """One layer's activations for the centered and the moved input, and how far they agree."""

    name: str
    centered: np.ndarray  # (rows, cols, channels) for a conv layer, (units,) for a dense layer
    moved: np.ndarray
    stride: int  # input pixels per activation pixel; 0 for a dense layer
    agreement: float


def probe_layers(model: keras.Model, arch: str) -> list[tuple[str, int, keras.layers.Layer]]:
    """(display name, stride, layer): the first two convolutions of a CNN, the first dense layer of an MLP."""
    if arch == "cnn":
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        return [("first convolution", 1, convs[0]), ("second convolution", 2, convs[1])]
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    return [("first dense layer", 0, dense)]


def probe_model(model: keras.Model, arch: str) -> keras.Model:
    """A model that returns the probed layers' outputs."""
    return keras.Model(model.inputs[0], [layer.output for _, _, layer in probe_layers(model, arch)])


def agreement(centered: np.ndarray, moved: np.ndarray, dx: int, dy: int, stride: int) -> float:
    """Cosine similarity between the moved input's activations and the centered activations moved along.

    For a dense layer (stride 0) nothing can be moved along: the activations are compared as they are.
    1.0 means the layer saw the same thing, just elsewhere.
    """
    if stride:  # (rows, cols, channels): move the rows and columns of every channel
        expected = np.moveaxis(shift(np.moveaxis(centered, -1, 0), dx // stride, dy // stride), 0, -1)
    else:
        expected = centered
    norm = np.linalg.norm(expected) * np.linalg.norm(moved)
    return float(np.sum(expected * moved) / norm) if norm > 0 else 0.0


def activations(
    model: keras.Model,
    arch: str,
    centered: np.ndarray,
    moved: np.ndarray,
    dx: int,
    dy: int,
    probe: keras.Model | None = None,
):
    """Each probed layer's activations for two uint8 model views (centered and moved by (dx, dy)).

    `probe` is `probe_model(model, arch)`, when the caller keeps one.
    """
    probes = probe_layers(model, arch)
    probe = probe or probe_model(model, arch)
    batch = model_input(np.stack([centered, moved]), arch)
    outputs = probe(batch, training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    layers = []
    for (name, stride, _), output in zip(probes, outputs, strict=True):
        values = np.asarray(output)
        layers.append(
            LayerActivations(name, values[0], values[1], stride, agreement(values[0], values[1], dx, dy, stride))
        )
    return layers


def drawing_layers(saved, field: np.ndarray, dx: int, dy: int) -> list[LayerActivations]:
    """The probed layers of a saved model for a drawing put in the middle of the field and moved by (dx, dy).

    `saved` is a loaded model with its `arch` and `data` (predictor.SavedModel); each input is what that
    model sees of the field, so a centered model looks through its window. The probe is built once and kept
    with the loaded model, so it goes when the model does (a deleted run, a new model file).
    """
    if "probe" not in saved.derived:
        saved.derived["probe"] = probe_model(saved.model, saved.arch)
    centered_dx, centered_dy = centering_shift(field)
    return activations(
        saved.model,
        saved.arch,
        model_view(shift(field, centered_dx, centered_dy), saved.view),
        model_view(shift(field, dx, dy), saved.view),
        dx - centered_dx,
        dy - centered_dy,
        saved.derived["probe"],
    )
