"""The Shift Lab's own layer: anti-aliased max pooling (Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML 2019).

Max pooling with stride 2 reads a different set of pixels when the input moves by one: a one-pixel
move can change what the next layer sees altogether. BlurPool2D takes the max over 2x2 windows at
every pixel (stride 1), blurs with a fixed 3x3 binomial filter, and only then keeps every second
pixel, so that a small move changes its output a little. Before blurring it pads the maxima by
reflection, one pixel on every side, as Zhang's `Downsample` (adobe/antialiased-cnns) does: zeros
would darken the edges (a map of ones would come out 0.56 in the corners), and padding only the
bottom and right, as a strided "same" convolution does, would blur the two sides differently. It is
registered with Keras so that a saved model holding it loads with `safe_mode=True`.
"""

import keras
import numpy as np
from keras import ops

BINOMIAL = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0
EDGES = ("reflect", "zeros")  # "zeros": the first version's blur, kept so that runs saved by it behave as trained


@keras.saving.register_keras_serializable(package="mnistviz")
class BlurPool2D(keras.layers.Layer):
    """Max over 2x2 (stride 1), then a binomial blur subsampled by 2: the same output size as MaxPooling2D(2, padding)."""

    def __init__(self, padding: str = "valid", edges: str = "reflect", **kwargs):
        super().__init__(**kwargs)
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
        if edges not in EDGES:
            raise ValueError(f"edges must be 'reflect' or 'zeros', not {edges!r}")
        self.padding = padding
        self.edges = edges

    def build(self, input_shape):
        channels = input_shape[-1]
        kernel = np.repeat(BINOMIAL[:, :, None, None], channels, axis=2).astype("float32")
        self.kernel = ops.convert_to_tensor(kernel)  # fixed: not a weight, nothing to train or save

    def call(self, inputs):
        pooled = ops.max_pool(inputs, pool_size=2, strides=1, padding=self.padding)
        if self.edges == "zeros":
            return ops.depthwise_conv(pooled, self.kernel, strides=2, padding="same")
        padded = ops.pad(pooled, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="reflect")
        return ops.depthwise_conv(padded, self.kernel, strides=2, padding="valid")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape

        def side(size):
            if size is None:
                return None
            return (size + 1) // 2 if self.padding == "same" else size // 2

        return (batch, side(height), side(width), channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "edges": self.edges}

    @classmethod
    def from_config(cls, config):
        """A config without `edges` was saved before reflection padding: it keeps the zeros it was trained with."""
        return super().from_config({"edges": "zeros", **config})
