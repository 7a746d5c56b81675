"""Draw: a digit on the canvas, every saved model's answer at once, and what happens when it moves."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnistviz import drawing, plots, predictor, ui
from mnistviz.data import DIGIT, FIELD
from mnistviz.errors import MnistvizError

CANVAS = 5 * FIELD  # 280 px: 5 canvas pixels per field pixel
STROKE = 13  # canvas pixels, about 2.5 field pixels: as thick as MNIST's strokes
VIEW_PIXELS = 2 * FIELD  # every model input is shown 112 px wide: sharp for 28 and for 56 pixels
SEES = {"centered": f"the {DIGIT}x{DIGIT} window", "offset": f"the whole {FIELD}x{FIELD} field"}


@st.cache_resource
def window_marker():
    return drawing.window_marker(CANVAS)


def clear_drawing() -> None:
    """A new canvas key is a new, empty canvas."""
    st.session_state["draw_canvas_version"] = st.session_state.get("draw_canvas_version", 0) + 1


def show_prediction(prediction: predictor.Prediction) -> None:
    """One model's row: the exact image it receives, its answer, and its probabilities."""
    size = prediction.image.shape[0]
    sure = max(prediction.probabilities)
    with st.container(border=True, horizontal=True, vertical_alignment="center", gap="medium", wrap=False):
        st.image(
            drawing.enlarge(prediction.image, VIEW_PIXELS // size),
            caption=f"its input, {size}x{size}",
            width=VIEW_PIXELS,
            clamp=True,
        )
        with st.container(width="stretch", gap="small"):
            st.markdown(
                f"**{prediction.label}** predicts :red-badge[**{prediction.digit}**] {sure:.0%} sure",
                help=f"{prediction.label} sees {SEES[prediction.data]}. Run {prediction.run_id}.",
            )
            st.plotly_chart(
                plots.probability_bars(prediction.probabilities, prediction.digit, height=100),
                width="stretch",
                key=f"draw-bars-{prediction.run_id}",
                config={"displayModeBar": False},
            )


st.title("Draw a digit")
st.caption(
    "Draw one digit about as tall as the dashed square: that square is all a model trained on centered digits "
    "sees. Every saved model answers at once. Then move the digit with the sliders: which models still know it?"
)

try:
    with st.spinner("Loading the saved models..."):
        models, skipped = predictor.saved_models(ui.manager().store)
except MnistvizError as error:
    ui.show_error(error)
    st.stop()
for run in skipped:
    st.warning(f"Run {run.label} ({run.run_id}) is left out: {run.reason}", icon=":material/warning:")
if not models:
    st.info("No saved models yet: train a model first, then come back to draw.", icon=":material/info:")
    st.page_link("views/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

with st.container(horizontal=True, gap="large"):
    drawing_area = st.container(width=CANVAS + 4)
    answers_area = st.container()
with drawing_area:
    st.markdown("**Your digit**")
    canvas = st_canvas(
        stroke_width=STROKE,
        stroke_color="#fff",
        background_image=window_marker(),
        height=CANVAS,
        width=CANVAS,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"draw_canvas_{st.session_state.get('draw_canvas_version', 0)}",
    )
    st.button("Clear", icon=":material/ink_eraser:", on_click=clear_drawing)
    recenter = st.toggle(
        "Recenter like MNIST",
        help="Before a model sees the digit: scale its ink to fit 20x20 and put its centre of mass in the middle, "
        "as MNIST did with every digit. Moving the digit then changes nothing.",
    )
    dx = st.slider("Move right (dx)", -14, 14, 0, help="Columns to move the digit; negative moves it left.")
    dy = st.slider("Move down (dy)", -14, 14, 0, help="Rows to move the digit; negative moves it up.")

with answers_area:
    try:
        pixels = canvas.image_data  # decodes a PNG: read it once
        field = None if pixels is None else drawing.canvas_to_field(pixels)
        if field is None or not field.any():
            st.info("Draw a digit in the black square to see what every model makes of it.", icon=":material/draw:")
            st.stop()
        problem = drawing.ink_problem(field)
        if problem:
            st.warning(problem, icon=":material/warning:")
            st.stop()
        predictions = predictor.predict_all(drawing.shift_field(field, dx, dy), recenter=recenter, models=models)
    except MnistvizError as error:
        ui.show_error(error)
        st.stop()
    for prediction in predictions:
        show_prediction(prediction)
