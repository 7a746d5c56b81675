"""Maps drawn as pictures rather than charts, for what a page redraws on every stroke.

Four plotly heatmaps took longer to build and to draw than the position maps took to compute; a
picture costs a few milliseconds either way and looks the same on every screen. Pure numpy and PIL.
"""

import numpy as np
from PIL import Image, ImageDraw
from plotly.colors import get_colorscale, hex_to_rgb

from mnistviz.analysis import drawing
from mnistviz.learning import field
from mnistviz.learning.field import FIELD

NOWHERE = (217, 217, 217)  # grey: where the drawing cannot go (it would leave the field)
WINDOW = (255, 255, 255)
NOW = (255, 75, 75)
DASH = 6  # picture pixels per dash of the window


def _viridis() -> np.ndarray:
    """(256, 3) uint8: the Viridis scale every accuracy and probability map of the dashboard uses."""
    stops = get_colorscale("Viridis")
    positions = [position for position, _ in stops]
    colors = np.array([hex_to_rgb(color) for _, color in stops], dtype=float)
    levels = np.linspace(0, 1, 256)
    return np.stack([np.interp(levels, positions, colors[:, channel]) for channel in range(3)], axis=1).astype(np.uint8)


VIRIDIS = _viridis()


def colour_scale(width: int = 240, height: int = 12) -> np.ndarray:
    """The scale itself, 0% on the left to 100% on the right: the legend under the maps."""
    return np.repeat(VIRIDIS[np.linspace(0, 255, width).astype(int)][None], height, axis=0)


def position_map(probability: np.ndarray, drawn: np.ndarray, dx: int, dy: int, scale: int = 5) -> np.ndarray:
    """A model's probability with the drawing's centre at each place of the field, as an RGB picture.

    `probability[row, col]` is for the ink box's top-left corner (`predictor.position_maps`); each is drawn
    at the box's centre. The dashed square is a centered model's window; the red cross is the drawing's
    centre where the sliders put it.
    """
    (height, width), (row, col) = field.marker(drawn, dx, dy)
    by_centre = np.full((FIELD, FIELD), np.nan)
    down, right = height // 2, width // 2
    by_centre[down:, right:] = np.asarray(probability, float)[: FIELD - down, : FIELD - right]
    known = ~np.isnan(by_centre)
    pixels = np.empty((FIELD, FIELD, 3), np.uint8)
    pixels[:] = NOWHERE
    pixels[known] = VIRIDIS[np.clip(np.round(by_centre[known] * 255), 0, 255).astype(int)]
    picture = Image.fromarray(pixels).resize((FIELD * scale, FIELD * scale), Image.NEAREST)
    pen = ImageDraw.Draw(picture)
    drawing.dashed_window(pen, scale, DASH, WINDOW, 1)
    x, y, arm = (col + 0.5) * scale, (row + 0.5) * scale, 2 * scale
    for line in ((x - arm, y - arm, x + arm, y + arm), (x - arm, y + arm, x + arm, y - arm)):
        pen.line(line, fill=WINDOW, width=5)
        pen.line(line, fill=NOW, width=3)
    return np.asarray(picture)


GAP = 4  # picture pixels between maps
GAP_GREY = 90


def _grey(values: np.ndarray, high: float, size: int) -> np.ndarray:
    """Activations as a uint8 grey square `size` pixels wide, 0 black and `high` white."""
    levels = np.clip(np.asarray(values, float) / max(high, 1e-6) * 255, 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(levels).resize((size, size * levels.shape[0] // levels.shape[1]), Image.NEAREST))


def _tiles(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Equal-sized grey tiles in rows, with grey gaps between them."""
    height, width = rows[0][0].shape
    out = np.full((len(rows) * (height + GAP) - GAP, len(rows[0]) * (width + GAP) - GAP), GAP_GREY, np.uint8)
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            out[r * (height + GAP) : r * (height + GAP) + height, c * (width + GAP) : c * (width + GAP) + width] = tile
    return out


def feature_maps(centered: np.ndarray, moved: np.ndarray, channels: int = 6, size: int = 84) -> np.ndarray:
    """The first `channels` maps of a conv layer: top row for the centered drawing, bottom row for the moved one.

    White on black like the digits; each channel keeps one scale for both rows, so brighter means stronger.
    """
    shown = min(channels, centered.shape[-1])
    highs = [float(max(centered[..., c].max(), moved[..., c].max())) for c in range(shown)]
    return _tiles([[_grey(maps[..., c], highs[c], size) for c in range(shown)] for maps in (centered, moved)])


def dense_activations(centered: np.ndarray, moved: np.ndarray, columns: int = 32, size: int = 256) -> np.ndarray:
    """A dense layer's units as a grid (16x32 for 512), for the centered and the moved drawing side by side."""
    high = float(max(centered.max(), moved.max()))
    return _tiles([[_grey(units.reshape(-1, columns), high, size) for units in (centered, moved)]])
