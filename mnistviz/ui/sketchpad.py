"""The Draw page's canvas, our own: the ink reaches the server the moment the pen lifts.

streamlit-drawable-canvas waits 200 ms after every stroke before it sends the drawing, which
alone used most of the 0.30 s a student may wait for the answers. This pad is a Components v2
element (no iframe, no build step): a canvas over the guide picture that sends its ink as a PNG
on pen up, by mouse, pen or finger alike (pointer events). Python reads the PNG with
`drawing.canvas_png_to_field`, which refuses anything but a canvas-sized PNG.
"""

import base64
import io
from importlib import resources

import streamlit as st
from PIL import Image

SCRIPT = resources.files("mnistviz.ui").joinpath("sketchpad.js").read_text(encoding="utf-8")
STYLE = """
.sketchpad {
    position: relative;
    border-radius: 0.25rem;
    overflow: hidden;
    background-size: 100% 100%;
}
.sketchpad canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.sketchpad canvas.ink { touch-action: none; cursor: crosshair; }
"""
CANVAS_SELECTOR = ".sketchpad canvas.ink"  # where the browser tests and benchmarks draw
_PAD = st.components.v2.component(
    "mnistviz_sketchpad",
    html='<div class="sketchpad"><canvas class="ghost"></canvas><canvas class="ink"></canvas></div>',
    css=STYLE,
    js=SCRIPT,
)


def png_url(picture: Image.Image) -> str:
    """A picture as a data URL the pad can show behind the ink."""
    encoded = io.BytesIO()
    picture.save(encoded, format="PNG")
    return "data:image/png;base64," + base64.b64encode(encoded.getvalue()).decode("ascii")


def sketchpad(
    *, size: int, stroke: int, guide: str, move: tuple[int, int], ghost: str, key: str, label: str = "Drawing canvas"
) -> str | None:
    """Show the pad and return its last drawing (a PNG data URL) or None.

    `size` px square, a `stroke` px pen, over the `guide` data URL; the ink's copy moved by `move`
    canvas pixels (right, down) is shown in the `ghost` colour. The value is what the browser sent:
    untrusted until `drawing.canvas_png_to_field` has read it. A new `key` is a new, empty pad.
    """
    result = _PAD(
        data={"size": size, "stroke": stroke, "guide": guide, "move": list(move), "ghost": ghost, "label": label},
        key=key,
        default={"drawing": None},
        on_drawing_change=lambda: None,
        width="content",
        height="content",
    )
    return result.get("drawing")
