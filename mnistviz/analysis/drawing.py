"""A drawing -> the field -> the exact uint8 image each model receives; and which saved models answer it.

The canvas and an image file are both read as the 56x56 field (`field.py`): bright ink on a
dark background, area-averaged like MNIST's anti-aliasing.

Which saved models answer on the Draw page: a class makes dozens of runs, a page shows a few.
By default the teacher's pinned runs, then the best run of each of the notebook's four cells (chosen
on validation accuracy, as everywhere: `notebook.best_runs`); a student adds or removes any run with
a model.

Pure numpy and PIL (and the run labels of `display.py`): no Streamlit, no TensorFlow. The page and
its tests call it alike.
"""

import base64
import binascii
import io
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from mnistviz.errors import MnistvizError
from mnistviz.learning import notebook
from mnistviz.learning.field import CENTER, DIGIT, FIELD, place, shift
from mnistviz.runs.store import RunRecord
from mnistviz.show import display

MAX_PIXELS = 40_000_000  # larger images are refused before decoding: a few MB of PNG can hold billions of pixels
BOX = 20  # MNIST scales a digit's bounding box to fit 20x20 inside its 28x28 image
DOT_INK = 8.0  # less ink than about 8 fully white pixels is a dot, not a digit
FULL_FRACTION = 0.5  # more than half of the field inked is a scribble over everything
CANVAS_PNG = "data:image/png;base64,"  # how the Draw page's pad sends its ink
MAX_CANVAS_URL = 1_000_000  # characters: a 280x280 canvas of ink is a few tens of kB as PNG
WINDOW_DASH = 8  # canvas pixels per dash of the window marker


def _ink_from_rgba(rgba: np.ndarray, light_ink: bool = True) -> np.ndarray:
    """Float ink in [0, 255] of an (H, W, 4) uint8 image: colour strength times opacity.

    Light ink is the brightest channel (any colour on black), dark ink the darkness of the
    darkest channel (any colour on white); transparent pixels are no ink either way.
    """
    rgb = rgba[..., :3]
    strength = rgb.max(axis=2) if light_ink else 255 - rgb.min(axis=2)
    ink = strength.astype(np.float32)
    ink *= rgba[..., 3]
    ink /= np.float32(255.0)
    return ink


def canvas_to_field(rgba: np.ndarray) -> np.ndarray:
    """The canvas' RGBA pixels (white ink, H = W = a multiple of 56) -> the 56x56 uint8 field."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise MnistvizError(f"a canvas image must be RGB or RGBA pixels, not an array of shape {rgba.shape}")
    height, width = rgba.shape[:2]
    if height != width or height == 0 or height % FIELD:
        raise MnistvizError(f"the canvas must be square, its side a multiple of {FIELD}, not {width}x{height}")
    if rgba.shape[2] == 3:
        rgba = np.dstack([rgba, np.full((height, width), 255, np.uint8)])
    factor = height // FIELD
    ink = _ink_from_rgba(rgba.astype(np.uint8, copy=False))
    return _to_uint8(ink.reshape(FIELD, factor, FIELD, factor).mean(axis=(1, 3)))


def canvas_png_to_field(url, side: int) -> np.ndarray:
    """What the browser sent as the drawing (a PNG data URL, untrusted) -> the 56x56 uint8 field.

    Anything but a `side` x `side` PNG of sane length is refused with a MnistvizError before
    the image is decoded: a forged value cannot make the server decode a huge picture.
    """
    return canvas_to_field(canvas_png_to_rgba(url, side))


def canvas_png_to_rgba(url, side: int) -> np.ndarray:
    """What the browser sent as the drawing (a PNG data URL, untrusted) -> its `side` x `side` RGBA pixels."""
    if not isinstance(url, str) or not url.startswith(CANVAS_PNG):
        raise MnistvizError("the drawing did not arrive as a PNG image: clear the canvas and draw again")
    if len(url) > MAX_CANVAS_URL:
        raise MnistvizError(
            f"the drawing sent is {len(url):,} characters long, more than a {side}x{side} canvas can hold: "
            "clear the canvas and draw again"
        )
    try:
        data = base64.b64decode(url[len(CANVAS_PNG) :], validate=True)
        image = Image.open(io.BytesIO(data), formats=["PNG"])
    except (binascii.Error, *_BAD_FILE) as error:
        raise MnistvizError("the drawing sent is not a readable PNG image: clear the canvas and draw again") from error
    if image.size != (side, side):
        raise MnistvizError(
            f"the drawing sent is {image.size[0]}x{image.size[1]} pixels, not the canvas' {side}x{side}"
        )
    try:
        return np.asarray(image.convert("RGBA"))
    except _BAD_FILE as error:
        raise MnistvizError("the drawing sent is a damaged PNG image: clear the canvas and draw again") from error


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


_BAD_FILE = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def _open_image(path_or_file) -> Image.Image:
    """Open and decode an image file, turning every way a file can be bad into a MnistvizError."""
    if isinstance(path_or_file, str | os.PathLike):
        name = str(path_or_file)
    else:
        name = str(getattr(path_or_file, "name", "") or "the image")
    try:
        image = Image.open(path_or_file)
    except _BAD_FILE as error:
        raise MnistvizError(_unreadable(name, error)) from error
    try:
        width, height = image.size
        side = max(width, height)  # what is built: the picture padded to a square
        if side * side > MAX_PIXELS:
            raise MnistvizError(
                f"{name} is {width}x{height} pixels, too large to read safely "
                f"(at most {MAX_PIXELS // 1_000_000} million pixels once squared): shrink it first"
            )
        image.seek(0)  # the first frame of an animation
        image.load()
    except (MnistvizError, *_BAD_FILE) as error:
        image.close()
        if isinstance(error, MnistvizError):
            raise
        raise MnistvizError(_unreadable(name, error)) from error
    return image


def _unreadable(name: str, error: Exception) -> str:
    """Why an image file cannot be read, in words a student understands."""
    if isinstance(error, Image.DecompressionBombError):
        return f"{name} claims to be a gigantic image, too large to read safely ({error})"
    if isinstance(error, FileNotFoundError):
        return f"{name} does not exist"
    if isinstance(error, IsADirectoryError):
        return f"{name} is a folder, not an image file"
    if isinstance(error, UnidentifiedImageError):
        return f"{name} is not an image (or it is empty): use a PNG, JPEG, GIF or BMP file"
    return f"{name} is a damaged or incomplete image file ({error})"


def _as_rgba(image: Image.Image) -> np.ndarray:
    """Any PIL mode -> (H, W, 4) uint8; 16- and 32-bit greys are scaled to 0..255."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = values.max(initial=0.0)
        scale = 255.0 if top <= 255 else 65535.0 if top <= 65535 else top
        grey = _to_uint8(values * (255.0 / scale))
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    return np.asarray(image.convert("RGBA"))


def _has_light_ink(rgba: np.ndarray) -> bool:
    """True when ink is bright on a dark (or transparent) background, False for dark ink on light."""
    border = np.concatenate([rgba[0], rgba[-1], rgba[:, 0], rgba[:, -1]]).astype(np.float32)
    opaque_border = border[:, 3] >= 128
    if opaque_border.mean() >= 0.5:  # an ordinary picture: is its background light?
        brightness = border[opaque_border, :3].mean(axis=1)
        return bool(np.mean(brightness > 127) <= 0.5)
    # a transparent background: the drawing is whatever is opaque; its colour says which ink it is
    alpha = rgba[..., 3].astype(np.float64)
    if alpha.sum() == 0:
        return True
    brightness = rgba[..., :3].mean(axis=2, dtype=np.float64)
    return bool((brightness * alpha).sum() / alpha.sum() > 127)


def _square(ink: np.ndarray) -> np.ndarray:
    """Pad the shorter side with empty background so the picture is not stretched."""
    height, width = ink.shape
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    return np.pad(ink, ((top, side - height - top), (left, side - width - left)))


def image_to_field(path_or_file) -> np.ndarray:
    """Read an image file as the 56x56 field: bright ink on black, box-filtered like the canvas.

    Any PIL mode is accepted; a light background (dark ink) is inverted. A non-image, a damaged
    file or an image of more than MAX_PIXELS pixels raises MnistvizError.
    """
    try:
        with _open_image(path_or_file) as image:
            image = ImageOps.exif_transpose(image)
            rgba = _as_rgba(image)
        ink = _square(_ink_from_rgba(rgba, light_ink=_has_light_ink(rgba)))
        resized = Image.fromarray(ink).resize((FIELD, FIELD), Image.Resampling.BOX)
    except MemoryError as error:  # the size checks keep to MAX_PIXELS; a busy server may still run out
        raise MnistvizError("the image is too large for this server's memory: shrink it first") from error
    return _to_uint8(np.asarray(resized))


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, col) of the ink's centre of mass; the image centre when there is no ink."""
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if total == 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def recenter(field: np.ndarray) -> np.ndarray:
    """MNIST's own normalisation of a drawing, wherever it is in the field.

    The ink's bounding box is scaled (aspect kept) to fit 20x20, placed in a 28x28 image so
    that its centre of mass is the image's centre, and that image is put in the field's window.
    """
    field = np.asarray(field)
    rows, cols = np.nonzero(field)
    if len(rows) == 0:
        return np.zeros((FIELD, FIELD), np.uint8)
    box = field[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].astype(np.float32)
    scale = BOX / max(box.shape)
    height, width = (max(1, round(side * scale)) for side in box.shape)
    scaled = np.asarray(Image.fromarray(box).resize((width, height), Image.Resampling.BILINEAR))
    digit = np.zeros((DIGIT, DIGIT), np.float32)
    top, left = (DIGIT - height) // 2, (DIGIT - width) // 2
    digit[top : top + height, left : left + width] = np.clip(scaled, 0, 255)
    row, col = center_of_mass(digit)
    middle = (DIGIT - 1) / 2
    digit = shift(digit, round(middle - col), round(middle - row))
    return place(_to_uint8(digit)[None])[0]


def ink_problem(field: np.ndarray) -> str | None:
    """Why this drawing cannot be read as a digit, in words a student understands; None if it can."""
    field = np.asarray(field)
    ink = field.sum(dtype=np.float64) / 255.0
    if ink == 0:
        return "The drawing is empty: there is no ink in it to read."
    if ink < DOT_INK:
        return "That is only a dot, too little ink for a digit: draw the whole digit, bigger."
    if np.mean(field > 127) > FULL_FRACTION:
        return "Almost everything is ink: a digit is a few thin strokes on an empty background. Clear it and draw one."
    return None


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel as a factor x factor block, so that small model inputs show sharp on screen."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def dashed_window(pen: ImageDraw.ImageDraw, scale: float, dash: int, fill: tuple, width: int) -> None:
    """The 28x28 window a centered model sees, dashed, on a picture of the field `scale` pixels a field pixel."""
    low, high = round(CENTER * scale), round((CENTER + DIGIT) * scale) - 1
    for start in range(low, high, 2 * dash):
        end = min(start + dash, high)
        for line in (
            (start, low, end, low),
            (start, high, end, high),
            (low, start, low, end),
            (high, start, high, end),
        ):
            pen.line(line, fill=fill, width=width)


GHOST = "#e69f00"  # Okabe-Ito orange: the moved copy of the drawing, apart from the white strokes
BOX_GREY = (95, 95, 95)


def canvas_guide(size: int = 5 * FIELD) -> Image.Image:
    """The canvas' black background: the guides for drawing.

    The dashed square is the 28x28 window a centered model sees; it is also where the offset models'
    training digits had their centres. The solid square inside it is MNIST's 20x20 box: a digit drawn
    that size is the size the models learned. The canvas never sends its background back, so none
    of this is ever part of the drawing.
    """
    image = Image.new("RGB", (size, size), "black")
    scale = size / FIELD
    pen = ImageDraw.Draw(image)
    dashed_window(pen, scale, WINDOW_DASH, (150, 150, 150), 2)
    margin = (DIGIT - BOX) / 2
    box_low, box_high = round((CENTER + margin) * scale), round((CENTER + DIGIT - margin) * scale) - 1
    pen.rectangle((box_low, box_low, box_high, box_high), outline=BOX_GREY, width=1)
    return image


def canvas_background(guide: Image.Image, drawn: np.ndarray | None, move: tuple[int, int]) -> Image.Image:
    """The guide with the drawing's copy moved by `move` canvas pixels (right, down) in orange over it.

    `drawn` is the canvas' RGBA pixels as last sent (None: nothing drawn). The copy leaves the canvas at
    its edges as the digit leaves the field; the canvas shows its own ink above this picture.
    """
    picture = guide.copy()
    if drawn is None or move == (0, 0):
        return picture
    ink = _ink_from_rgba(drawn.astype(np.uint8, copy=False))
    moved = np.zeros_like(ink)
    right, down = move
    size = ink.shape[0]
    rows, cols = slice(max(0, down), min(size, size + down)), slice(max(0, right), min(size, size + right))
    moved[rows, cols] = ink[max(0, -down) : size - max(0, down), max(0, -right) : size - max(0, right)]
    mask = Image.fromarray(_to_uint8(moved), "L")
    picture.paste(Image.new("RGB", picture.size, GHOST), (0, 0), mask)
    return picture


FALLBACK = 4  # with no notebook model saved yet, the newest runs shown by default


@dataclass(frozen=True)
class DrawChoices:
    """The runs a student may pick (run id -> label, newest first) and those shown until they do."""

    options: dict[str, str]
    default: list[str]


def draw_choices(records: list[RunRecord], pinned: list[str]) -> DrawChoices:
    """Every run with a model file, labelled so that runs of one name are told apart, and the default pick."""
    usable = [record for record in records if record.has_model]
    options = {record.run_id: display.run_label(record) for record in usable}
    default = [run_id for run_id in pinned if run_id in options]
    best = notebook.best_runs(usable)
    for cell in notebook.cells():
        if cell in best and best[cell].run_id not in default:
            default.append(best[cell].run_id)
    if not default:
        default = list(options)[:FALLBACK]
    return DrawChoices(options, default)


def feature_model_index(kinds: list[tuple[str, str]]) -> int:
    """Which of the shown models' (arch, data) the feature maps open on: a CNN (offset first), else the first.

    An MLP's first layer has no maps to show, only a grid of grey squares.
    """
    for wanted in (("cnn", "offset"), ("cnn", "centered")):
        if wanted in kinds:
            return kinds.index(wanted)
    return 0
