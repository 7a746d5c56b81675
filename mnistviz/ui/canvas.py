"""Draw's canvas: streamlit-drawable-canvas, the design card's, with white ink over a picture of the field.

Its toolbar gives students undo, redo and reset; it takes mouse, pen and touch. A finished stroke
reaches the server after the component's 200 ms debounce (its price, accepted for the toolbar). Behind
the ink: the guide (the window, MNIST's box) and the ink's moved copy in orange, drawn here from the
drawing the canvas last sent; changing that picture keeps the strokes.
"""

import numpy as np
import streamlit as st
from PIL import Image

from mnistviz.analysis import drawing
from mnistviz.errors import MnistvizError

CANVAS_SELECTOR = "canvas.upper-canvas"  # the canvas the pen draws on: where browser tests and benchmarks draw


def sent_drawing(key: str):
    """What the canvas `key` last sent as its picture (a PNG data URL, untrusted), or None.

    Read before the canvas is drawn in this run: its moved copy is part of the canvas' background.
    """
    state = st.session_state.get(key)
    sent = state.get("drawing") if isinstance(state, dict) else None
    return sent.get("data") if isinstance(sent, dict) else None


def drawing_canvas(*, size: int, stroke: int, guide: Image.Image, drawn: np.ndarray | None, move, key: str) -> None:
    """Show the canvas: `size` px square, a `stroke` px pen, over `guide` with `drawn`'s copy moved by `move`
    canvas pixels. A new `key` is a new, empty canvas. A state the canvas cannot have sent is a MnistvizError."""
    from streamlit_drawable_canvas import st_canvas  # registers its component: needs Streamlit's runtime

    background = drawing.canvas_background(guide, drawn, move)
    try:
        st_canvas(
            stroke_width=stroke,
            stroke_color="#fff",
            background_image=background,
            height=size,
            width=size,
            drawing_mode="freedraw",
            return_image_data=True,
            key=key,
        )
    except Exception as error:  # a forged state the component's own code cannot read
        raise MnistvizError("the canvas sent something it cannot have drawn") from error
