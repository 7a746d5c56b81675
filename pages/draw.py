"""Draw: a digit on the canvas, every saved model's answer at once, and what happens when it moves."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnistviz import drawing, features, field, plots, predictor, text, ui
from mnistviz.errors import MnistvizError
from mnistviz.field import DIGIT, FIELD, MAX_SHIFT

ui.page_setup("Draw")

CANVAS = 5 * FIELD  # 280 px: 5 canvas pixels per field pixel
STROKE = 13  # canvas pixels, about 2.5 field pixels: as thick as MNIST's strokes
VIEW_PIXELS = 2 * FIELD  # every model input is shown 112 px wide: sharp for 28 and for 56 pixels
SEES = {"centered": f"the {DIGIT}x{DIGIT} window", "offset": f"the whole {FIELD}x{FIELD} field"}


@st.cache_resource(max_entries=1)
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
                f"**{text.markdown(prediction.label)}** predicts :red-badge[**{prediction.digit}**] {sure:.0%} sure",
                help=f"{text.markdown(prediction.label)} sees {SEES[prediction.data]}. Run {prediction.run_id}.",
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
    st.warning(
        f"Run {text.markdown(run.label)} ({run.run_id}) is left out: {text.markdown(run.reason)}",
        icon=":material/warning:",
    )
if not models:
    st.info("No saved models yet: train a model first, then come back to draw.", icon=":material/info:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
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
    dx = st.slider(
        "Move right (dx)", -MAX_SHIFT, MAX_SHIFT, 0, help="Columns to move the digit; negative moves it left."
    )
    dy = st.slider("Move down (dy)", -MAX_SHIFT, MAX_SHIFT, 0, help="Rows to move the digit; negative moves it up.")

with answers_area:
    try:
        pixels = canvas.image_data  # decodes a PNG: read it once
        drawn = None if pixels is None else drawing.canvas_to_field(pixels)
        if drawn is None or not drawn.any():
            st.info("Draw a digit in the black square to see what every model makes of it.", icon=":material/draw:")
            st.stop()
        problem = drawing.ink_problem(drawn)
        if problem:
            st.warning(problem, icon=":material/warning:")
            st.stop()
        predictions = predictor.predict_all(field.shift(drawn, dx, dy), recenter=recenter, models=models)
    except MnistvizError as error:
        ui.show_error(error)
        st.stop()
    for prediction in predictions:
        show_prediction(prediction)

st.subheader("Where does each model still recognise it?")
st.caption(
    "Your drawing moved to every place where it fits in the field. Colour: each model's probability of the "
    "digit below, with the drawing's centre at that place. The red cross is where it is now; the dashed "
    "square is a centered model's window. Recentering is off here: it would undo every move."
)
digit_column, _ = st.columns([1, 3])
choice = digit_column.selectbox(
    "Digit you meant", ["what most models say", *range(10)], help="Whose probability the maps show."
)
try:
    with st.spinner("Moving your digit everywhere..."):
        digit, position_maps = predictor.position_maps(drawn, models, None if isinstance(choice, str) else int(choice))
except MnistvizError as error:
    ui.show_error(error)
    st.stop()
st.plotly_chart(
    plots.position_heatmaps([(saved.label, result.probability) for saved, result in position_maps], drawn, dx, dy),
    width="stretch",
    key="draw-position-maps",
)
st.caption(f"The maps show the probability of a **{digit}**.")

st.subheader("Inside the models: feature maps")
st.caption(
    "The first layers' activations for your drawing at the centre of the field and where the sliders put it. "
    "A convolution's maps move along with the digit; an MLP's first-layer units change altogether."
)
by_label = {saved.label + f" · {saved.run_id[-6:]}": saved for saved in models}
chosen_label = st.selectbox("Model", list(by_label), key="draw-feature-model")
layers = features.drawing_layers(by_label[chosen_label], drawn, dx, dy)
for layer in layers:
    name_column, figure_column = st.columns([1, 4], vertical_alignment="center")
    name_column.metric(
        layer.name.capitalize(),
        f"{layer.agreement:.0%}",
        help="Cosine similarity between the moved drawing's activations and the centered drawing's activations "
        + (
            "moved along (a convolution moves them with the digit)."
            if layer.stride
            else "(a dense layer has nothing to move)."
        )
        + " 100% means the layer saw the same thing.",
    )
    name_column.caption("alike when moved along" if layer.stride else "alike as they are")
    figure = (
        plots.feature_maps_figure(layer.centered, layer.moved)
        if layer.stride
        else plots.dense_activations_figure(layer.centered, layer.moved)
    )
    figure_column.plotly_chart(figure, width="stretch", key=f"draw-features-{layer.name}")
