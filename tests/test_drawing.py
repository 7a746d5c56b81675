"""Drawing -> field -> model view, on small synthetic arrays and files in every PIL mode."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mnistviz.analysis import drawing
from mnistviz.errors import MnistvizError
from mnistviz.learning.field import CENTER, DIGIT, FIELD, shift
from tests.test_field import digit_like, one_pixel


def test_recenter_puts_the_centre_of_mass_in_the_middle_and_fits_20x20():
    field = np.zeros((FIELD, FIELD), np.uint8)
    field[2:12, 40:45] = 255  # a small 10x5 block in the top right corner
    centered = drawing.recenter(field)
    row, col = drawing.center_of_mass(centered)
    middle = CENTER + (DIGIT - 1) / 2
    assert abs(row - middle) <= 0.5 and abs(col - middle) <= 0.5
    rows, cols = np.nonzero(centered)
    assert rows.max() - rows.min() + 1 in (20, 21)  # the longer side scaled to 20 (+1 for blur)
    assert 9 <= cols.max() - cols.min() + 1 <= 12  # the aspect kept
    assert np.argwhere(centered).min() >= CENTER and np.argwhere(centered).max() < CENTER + DIGIT


def test_recenter_undoes_any_shift():
    field = digit_like()
    reference = drawing.recenter(field)
    for dx, dy in [(12, 5), (-14, -14), (3, -9)]:
        assert np.abs(drawing.recenter(shift(field, dx, dy)).astype(int) - reference).max() <= 1


def test_recenter_keeps_an_empty_field_empty():
    empty = np.zeros((FIELD, FIELD), np.uint8)
    assert not drawing.recenter(empty).any()


def test_canvas_is_area_averaged_into_the_field():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255  # an opaque black background
    canvas[100:105, 150:155, :3] = 255  # exactly field pixel (20, 30)
    canvas[200:205, 0:5, 0] = 255  # red ink still counts: the brightest channel is the ink
    canvas[50:55, 50:52, :3] = 255  # 10 of 25 canvas pixels of field pixel (10, 10)
    field = drawing.canvas_to_field(canvas)
    assert field.shape == (FIELD, FIELD) and field.dtype == np.uint8
    assert field[20, 30] == 255 and field[40, 0] == 255 and field[10, 10] == 102
    assert np.count_nonzero(field) == 3


def test_canvas_ink_on_a_transparent_background_is_the_same():
    opaque = np.zeros((112, 112, 4), np.uint8)
    opaque[..., 3] = 255
    opaque[30:60, 40:44, :3] = 255
    transparent = np.zeros((112, 112, 4), np.uint8)
    transparent[30:60, 40:44] = 255
    transparent[60, 40:44] = (255, 255, 255, 128)  # an anti-aliased edge: half opaque white
    field = drawing.canvas_to_field(transparent)
    assert np.array_equal(field[:30], drawing.canvas_to_field(opaque)[:30])
    assert field[30, 20] == 64  # 2 of its 4 canvas pixels half-inked: 128 * 2 / 4


@pytest.mark.parametrize("shape", [(280, 140, 4), (100, 100, 4), (280, 280), (280, 280, 2)])
def test_canvas_of_a_wrong_shape_is_refused(shape):
    with pytest.raises(MnistvizError, match="canvas"):
        drawing.canvas_to_field(np.zeros(shape, np.uint8))


# ---- image files ---------------------------------------------------------------------------------


def pattern(size: int = FIELD) -> np.ndarray:
    """White ink on black: a field-sized grey picture with a bar in the upper left and a block below."""
    image = np.zeros((size, size), np.uint8)
    scale = size // FIELD
    image[8 * scale : 12 * scale, 6 * scale : 30 * scale] = 255
    image[30 * scale : 44 * scale, 20 * scale : 26 * scale] = 255
    return image


def save(image: Image.Image, tmp_path, name: str, **options) -> str:
    path = tmp_path / name
    image.save(path, **options)
    return str(path)


def as_rgba(grey: np.ndarray, ink=(255, 255, 255, 255), background=(0, 0, 0, 255)) -> Image.Image:
    rgba = np.where(grey[..., None] > 0, np.array(ink, np.uint8), np.array(background, np.uint8))
    return Image.fromarray(rgba.astype(np.uint8), "RGBA")


def odd_modes(grey: np.ndarray) -> dict[str, Image.Image]:
    palette = Image.fromarray(grey).convert("P")
    transparent_palette = as_rgba(grey, background=(0, 0, 0, 0)).convert("P")
    transparent_palette.info["transparency"] = int(np.asarray(transparent_palette)[0, 0])
    return {
        "L": Image.fromarray(grey),
        "RGB": Image.fromarray(grey).convert("RGB"),
        "RGBA opaque": as_rgba(grey),
        "RGBA white on transparent": as_rgba(grey, background=(0, 0, 0, 0)),
        "RGBA black on transparent": as_rgba(grey, ink=(0, 0, 0, 255), background=(0, 0, 0, 0)),
        "RGBA blue on white": as_rgba(grey, ink=(0, 30, 200, 255), background=(255, 255, 255, 255)),
        "LA": Image.fromarray(grey).convert("LA"),
        "P": palette,
        "P with transparency": transparent_palette,
        "I;16": Image.fromarray(grey.astype(np.uint16) * 257),
        "1": Image.fromarray(grey).convert("1"),
        "L black on white": Image.fromarray(255 - grey),
    }


@pytest.mark.parametrize("mode", list(odd_modes(pattern())))
def test_every_image_mode_reads_as_the_same_field(mode, tmp_path):
    image = odd_modes(pattern())[mode]
    path = save(image, tmp_path, "digit.png")
    if mode == "I;16":
        assert Image.open(path).mode.startswith("I")  # the file really is 16-bit
    assert np.array_equal(drawing.image_to_field(path), pattern())


def test_a_bigger_image_is_box_filtered_like_the_canvas(tmp_path):
    canvas = np.dstack([np.repeat(np.repeat(pattern(), 5, 0), 5, 1)] * 3 + [np.full((280, 280), 255, np.uint8)])
    canvas[53, 100:150, :3] = 255  # a thin line: a fifth of a field row
    path = save(Image.fromarray(canvas, "RGBA"), tmp_path, "canvas.png")
    assert np.array_equal(drawing.image_to_field(path), drawing.canvas_to_field(canvas))


def test_a_non_square_image_is_padded_not_stretched(tmp_path):
    wide = np.zeros((FIELD, 2 * FIELD), np.uint8)
    wide[:, 50:54] = 255  # a full-height bar in the middle
    field = drawing.image_to_field(save(Image.fromarray(wide), tmp_path, "wide.png"))
    rows, cols = np.nonzero(field)
    assert (rows.min(), rows.max()) == (14, 41)  # the image's height became the middle half of the field
    assert (cols.min(), cols.max()) == (25, 26)


def test_jpeg_and_file_objects_are_read(tmp_path):
    path = save(Image.fromarray(pattern()), tmp_path, "digit.jpg", quality=95)
    field = drawing.image_to_field(path)
    assert np.abs(field.astype(int) - pattern()).mean() < 8
    with open(path, "rb") as handle:
        assert np.array_equal(drawing.image_to_field(handle), field)
    assert np.array_equal(drawing.image_to_field(io.BytesIO(open(path, "rb").read())), field)


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's first line)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    raw = bytearray(buffer.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(raw[24:29])
    raw[12:29] = header
    raw[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(raw)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not an image"),
        (b"a shopping list, not a digit\n", "is not an image"),
        (png_claiming_size(8000, 6000), "too large to read safely"),  # 48 million pixels
        (png_claiming_size(30000, 30000), "too large to read safely"),  # PIL's own DecompressionBombError
    ],
)
def test_what_is_not_a_readable_image_is_refused_with_a_plain_message(content, message, tmp_path):
    path = tmp_path / "upload.png"
    path.write_bytes(content)
    with pytest.raises(MnistvizError, match=message) as error:
        drawing.image_to_field(path)
    assert str(path) in str(error.value)


def test_a_truncated_image_is_refused(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    whole = tmp_path / "whole.png"
    Image.fromarray(noise).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(MnistvizError, match="damaged or incomplete"):
        drawing.image_to_field(cut)


def test_missing_files_and_folders_are_refused(tmp_path):
    with pytest.raises(MnistvizError, match="does not exist"):
        drawing.image_to_field(tmp_path / "nothing.png")
    with pytest.raises(MnistvizError, match="folder"):
        drawing.image_to_field(tmp_path)


# ---- what a page shows ------------------------------------------------------------------------------


def test_ink_problem_names_empty_dot_and_scribbled_over_drawings():
    assert "empty" in drawing.ink_problem(np.zeros((FIELD, FIELD), np.uint8))
    assert "dot" in drawing.ink_problem(one_pixel(20, 20))
    dot = np.zeros((FIELD, FIELD), np.uint8)
    dot[27:29, 27:29] = 255
    assert "dot" in drawing.ink_problem(dot)
    assert "Almost everything is ink" in drawing.ink_problem(np.full((FIELD, FIELD), 200, np.uint8))
    assert drawing.ink_problem(digit_like()) is None


def test_enlarge_repeats_each_pixel_as_a_block():
    big = drawing.enlarge(np.array([[0, 255], [7, 9]], np.uint8), 3)
    assert big.shape == (6, 6) and big[2, 3] == 255 and big[5, 0] == 7


def test_the_canvas_guide_shows_the_window_dashed_and_mnists_20x20_box_inside_it():
    guide = np.asarray(drawing.canvas_guide(280).convert("L"))
    assert guide.shape == (280, 280)
    edge = guide[70, 70:210]
    assert edge.max() > 100 and (edge == 0).any()  # dashes and gaps along the window's top edge
    box = guide[90, 90:190]
    assert (box > 50).all() and box.max() < edge.max()  # the 20x20 box (field 18..38): solid, dimmer
    assert not guide[:68].any() and not guide[75:88, 75:205].any() and not guide[92:188, 92:188].any()


def png_url(rgba: np.ndarray, format: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format=format)
    return drawing.CANVAS_PNG + __import__("base64").b64encode(buffer.getvalue()).decode()


def test_the_pads_png_reads_as_the_same_field_as_its_pixels():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., :3] = 255
    canvas[100:180, 120:135, 3] = 255  # a white bar on a transparent canvas, as the pad sends it
    canvas[60:62, 40:90, 3] = 128
    field = drawing.canvas_png_to_field(png_url(canvas), 280)
    assert np.array_equal(field, drawing.canvas_to_field(canvas))
    assert field[30, 25] == 255 and field[12, 10] == 51


@pytest.mark.parametrize(
    "sent, message",
    [
        (None, "not arrive as a PNG"),
        ({"drawing": "x"}, "not arrive as a PNG"),
        ("data:image/jpeg;base64,/9j/", "not arrive as a PNG"),
        (drawing.CANVAS_PNG + "A" * drawing.MAX_CANVAS_URL, "characters long"),
        (drawing.CANVAS_PNG + "not base64!", "not a readable PNG"),
        (drawing.CANVAS_PNG + "aGVsbG8=", "not a readable PNG"),
    ],
)
def test_anything_but_a_canvas_png_is_refused_before_decoding(sent, message):
    with pytest.raises(MnistvizError, match=message):
        drawing.canvas_png_to_field(sent, 280)


def test_a_png_of_another_size_or_format_is_refused():
    with pytest.raises(MnistvizError, match="2800x2800 pixels, not the canvas' 280x280"):
        drawing.canvas_png_to_field(png_url(np.zeros((2800, 2800, 4), np.uint8)), 280)
    jpeg = png_url(np.zeros((280, 280, 3), np.uint8), "JPEG")  # a JPEG behind a PNG data URL
    with pytest.raises(MnistvizError, match="not a readable PNG"):
        drawing.canvas_png_to_field(jpeg, 280)


def test_a_truncated_png_is_refused():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = np.random.default_rng(0).integers(0, 256, (280, 280))
    url = png_url(canvas)
    cut = url[: len(url) // 2]
    cut = cut[: len(cut) - len(cut) % 4]
    with pytest.raises(MnistvizError, match="PNG"):
        drawing.canvas_png_to_field(cut, 280)
