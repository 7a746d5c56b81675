"""How many paths lead from each pixel of the field to the CNN's head: the border effect, counted.

Kayhan & van Gemert (CVPR 2020, "On Translation Invariance in CNNs: Convolutional Layers can Exploit
Absolute Spatial Location") show why a CNN sees a digit near an edge less well: with valid
convolutions a pixel near ANY edge reaches the head through far fewer paths than one inside, and
`same` padding gives it more. The notebook's 56x56 CNN drops only the field's rows and columns 54-55;
what dims a moved digit is this count, on all four sides. Pure numpy, no TensorFlow.
"""

import numpy as np

KERNEL = 3  # every convolution is 3x3
POOL = 2  # every max pooling is 2x2, stride 2
BLOCKS = 3  # conv -> pool, three times, then the head
# the paddings paths_to_head knows, each with what a reader calls it
PADDINGS = {"notebook": "notebook padding (valid)", "same": "same padding"}


def _windows(starts: np.ndarray, width: int, size: int) -> np.ndarray:
    """connect[out, in] = 1 where input `in` lies in output `out`'s window; padding is no input, so it is left out."""
    inputs = np.arange(size)
    return ((inputs >= starts[:, None]) & (inputs < starts[:, None] + width)).astype(np.int64)


def _convolution(size: int, same: bool) -> np.ndarray:
    """One axis of a 3x3 convolution: `same` pads one pixel each side (output size = input), valid does not."""
    starts = np.arange(size) - KERNEL // 2 if same else np.arange(size - KERNEL + 1)
    return _windows(starts, KERNEL, size)


def _pooling(size: int, same: bool) -> np.ndarray:
    """One axis of a 2x2 max pooling: `same` keeps an odd last pixel (Keras pads bottom/right), valid drops it."""
    count = -(-size // POOL) if same else size // POOL
    return _windows(np.arange(count) * POOL, POOL, size)


def paths_to_head(padding: str, size: int = 56) -> np.ndarray:
    """For each pixel of a size x size input, how many paths lead through the three conv/pool blocks to the head.

    "notebook": the notebook's CNN on the 56x56 field, every convolution and pooling valid (flooring);
    "same": every convolution and pooling "same". The head reads every position of the last map, so each
    counts once. One channel: channel counts multiply every pixel's count by the same factor, so they
    change no share and are left out. A 3x3 window is 3 rows times 3 columns, and pooling and padding also
    act on rows and columns apart, so a pixel's count is its row's count times its column's.
    """
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {sorted(PADDINGS)}, not {padding!r}")
    same = padding == "same"
    layers = []
    for _ in range(BLOCKS):
        for connect in (_convolution, _pooling):
            layers.append(connect(size, same))
            size = len(layers[-1])
    counts = np.ones(size, dtype=np.int64)  # the head: every position of the last map, once
    for connect in reversed(layers):
        counts = counts @ connect  # back through a layer: each input sums the counts of the outputs it feeds
    return np.outer(counts, counts)


def relative_reach(paths: np.ndarray) -> np.ndarray:
    """Each pixel's paths as a share of the most-reached pixel's (0..1), the same scale for any padding."""
    return paths / paths.max()


def border_reach(paths: np.ndarray, width: int = 2) -> tuple[float, float]:
    """(mean relative reach of the `width` outermost rows and columns on all four sides, of the central half).

    On the 56x56 field the central half is the 28x28 window where a centered digit sits.
    """
    share = relative_reach(paths)
    ring = np.ones(share.shape, dtype=bool)
    ring[width:-width, width:-width] = False
    quarter = len(share) // 4
    middle = share[quarter : len(share) - quarter, quarter : len(share) - quarter]
    return float(share[ring].mean()), float(middle.mean())
