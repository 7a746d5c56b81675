"""Feature maps: what a model's first layers compute for a drawing, centered and moved.

A convolution is shift-equivariant: moving the input moves its feature maps (by dx / stride).
A dense layer is not: its activations for a moved digit are a different pattern altogether.
`agreement` puts one number on that for each layer.
"""

from dataclasses import dataclass

import keras
import numpy as np

from mnistviz.drawing import shift_field
from mnistviz.models import model_input


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


_probes: dict[int, tuple[keras.Model, keras.Model]] = {}


def _probe(model: keras.Model, arch: str) -> keras.Model:
    """A model that returns the probed layers' outputs; built once per loaded model."""
    key = id(model)
    if key not in _probes or _probes[key][0] is not model:
        outputs = [layer.output for _, _, layer in probe_layers(model, arch)]
        _probes[key] = (model, keras.Model(model.inputs[0], outputs))
    return _probes[key][1]


def agreement(centered: np.ndarray, moved: np.ndarray, dx: int, dy: int, stride: int) -> float:
    """Cosine similarity between the moved input's activations and the centered activations moved along.

    For a dense layer (stride 0) nothing can be moved along: the activations are compared as they are.
    1.0 means the layer saw the same thing, just elsewhere.
    """
    expected = shift_field(centered, dx // stride, dy // stride) if stride else centered
    norm = np.linalg.norm(expected) * np.linalg.norm(moved)
    return float(np.sum(expected * moved) / norm) if norm > 0 else 0.0


def activations(model: keras.Model, arch: str, centered: np.ndarray, moved: np.ndarray, dx: int, dy: int):
    """Each probed layer's activations for two uint8 model views (centered and moved by (dx, dy))."""
    probes = probe_layers(model, arch)
    probe = _probe(model, arch)
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
