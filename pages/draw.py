"""Draw: a digit on the canvas, the chosen models' answers at once, and what happens when it moves."""

import streamlit as st

from mnistviz import ui
from mnistviz.analysis import drawing, features, predictor
from mnistviz.errors import MnistvizError
from mnistviz.learning import field
from mnistviz.learning.field import DIGIT, FIELD, MAX_SHIFT
from mnistviz.show import display, pictures, text

ui.page_setup("Draw")

CANVAS = 5 * FIELD  # 280 px: 5 canvas pixels per field pixel
STROKE = 13  # canvas pixels, about 2.5 field pixels: as thick as MNIST's strokes
VIEW_PIXELS = 64  # a model's input shown 64 px wide, beside its answer
SEES = {"window": f"the {DIGIT}x{DIGIT} window", "field": f"the whole {FIELD}x{FIELD} field"}
MOVES = {"dx": "Move right (dx)", "dy": "Move down (dy)"}


@st.cache_resource(show_spinner=False)
def canvas_guide():
    """The canvas' guide picture, made once for every session."""
    return drawing.canvas_guide(CANVAS)


def new_canvas() -> None:
    """A new canvas key is a new, empty canvas."""
    st.session_state["draw_canvas_version"] = st.session_state.get("draw_canvas_version", 0) + 1


def clear_drawing() -> None:
    """A new, empty canvas, and the digit back where it was drawn."""
    new_canvas()
    st.session_state["dx"] = st.session_state["dy"] = 0


def nudge(axis: str, step: int) -> None:
    """Move the digit one pixel: the slider shows the new value."""
    st.session_state[axis] = max(-MAX_SHIFT, min(MAX_SHIFT, st.session_state.get(axis, 0) + step))


def show_prediction(prediction: predictor.Prediction, label: str, words: str) -> None:
    """One model's card: its answer first, then the exact image it receives and its probabilities."""
    size = prediction.image.shape[0]
    sure = max(prediction.probabilities)
    name, _, made = label.partition(" · ")
    with st.container(border=True, gap="small", key=f"draw-answer-{prediction.run_id}"):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.image(drawing.enlarge(prediction.image, max(1, VIEW_PIXELS * 2 // size)), width=VIEW_PIXELS, clamp=True)
            with st.container(gap=None):
                st.markdown(
                    f"**{text.markdown(name)}** says :red-badge[**{prediction.digit}**] {sure:.0%} sure",
                    help=f"It sees {SEES[prediction.view]} (the picture is its input, {size}x{size}). "
                    f"Run {prediction.run_id}.",
                )
                st.caption(" · ".join(part for part in (text.markdown(made), words, f"input {size}x{size}") if part))
        st.html(display.probability_bars(prediction.probabilities, prediction.digit), width="stretch")


st.title("Draw a digit")
st.caption(
    "Draw one digit as big as the solid square (MNIST's 20x20). The dashed square is all a model trained on "
    "centered digits sees. Then move it: which models still know it?",
    help="The offset models learned digits whose centres lay anywhere inside the dashed square.",
)

store = ui.manager().store
choices = drawing.draw_choices(store.list(), store.pinned())
if not choices.options:
    st.info("No saved models yet: train a model first, then come back to draw.", icon=":material/info:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
if "draw-models" not in st.session_state:
    st.session_state["draw-models"] = choices.default
st.session_state["draw-models"] = [run_id for run_id in st.session_state["draw-models"] if run_id in choices.options]

with st.container(key="draw-layout"):
    canvas_area = st.container(key="draw-canvas")
    move_area = st.container(key="draw-move", gap="small")  # right under the canvas: on a phone too
    answers_area = st.container(key="draw-answers")
    controls_area = st.container(key="draw-controls")

with move_area:
    for axis, label in MOVES.items():
        st.session_state.setdefault(axis, 0)  # its value lives in the session (the arrows set it), not a default
        st.slider(label, -MAX_SHIFT, MAX_SHIFT, key=axis, help="Pixels to move the digit; negative moves it back.")
    with st.container(horizontal=True, gap="small"):
        for axis, step, icon, name in (
            ("dx", -1, ":material/arrow_back:", "left"),
            ("dx", 1, ":material/arrow_forward:", "right"),
            ("dy", -1, ":material/arrow_upward:", "up"),
            ("dy", 1, ":material/arrow_downward:", "down"),
        ):
            st.button("", icon=icon, key=f"nudge-{name}", on_click=nudge, args=(axis, step), help=f"One pixel {name}")
        st.button("Clear", icon=":material/ink_eraser:", on_click=clear_drawing, help="A new canvas, back in place")

with controls_area:
    recenter = st.toggle(
        "Recenter like MNIST",
        key="recenter",
        help="Before a model sees the digit: scale its ink to fit 20x20 and put its centre of mass in the middle, "
        "as MNIST did with every digit. Moving the digit then changes nothing.",
    )
    st.multiselect(
        "Models answering",
        list(choices.options),
        format_func=choices.options.get,
        key="draw-models",
        help="By default the best run of each of the notebook's four models, and any the teacher pinned.",
    )
    if ui.session_access().teacher:
        if st.button("Pin these for everyone", icon=":material/push_pin:", key="draw-pin"):
            try:
                store.pin(st.session_state["draw-models"])
                st.toast("Every student's Draw page now opens with these models.")
            except MnistvizError as error:
                ui.show_error(error)
dx, dy = st.session_state["dx"], st.session_state["dy"]

models = []
for run_id in st.session_state["draw-models"]:
    try:
        models.append(predictor.saved_model(store, run_id))
    except MnistvizError as error:
        with answers_area:
            ui.show_error(error)
labels = {saved.run_id: choices.options[saved.run_id] for saved in models}
kinds = {saved.run_id: saved.words for saved in models}  # the model in words, beside its short name

canvas_key = f"draw_canvas_{st.session_state.get('draw_canvas_version', 0)}"
sent = ui.sent_drawing(canvas_key)
try:
    pixels = None if sent is None else drawing.canvas_png_to_rgba(sent, CANVAS)
    bad_drawing = None
except MnistvizError as error:  # a forged or broken drawing: said below, never drawn behind the canvas
    pixels, bad_drawing = None, error
with canvas_area:
    st.markdown("**Your digit**")
    try:
        ui.drawing_canvas(
            size=CANVAS,
            stroke=STROKE,
            guide=canvas_guide(),
            drawn=pixels,
            move=(dx * CANVAS // FIELD, dy * CANVAS // FIELD),
            key=canvas_key,
        )
    except MnistvizError:  # a forged canvas state: a new, empty canvas, never a traceback
        new_canvas()
        st.rerun()

with answers_area:
    try:
        if bad_drawing is not None:
            raise bad_drawing
        drawn = None if pixels is None else drawing.canvas_to_field(pixels)
        if drawn is None or not drawn.any():
            st.info("Draw a digit in the black square to see what every model makes of it.", icon=":material/draw:")
            st.stop()
        problem = drawing.ink_problem(drawn)
        if problem:
            st.warning(problem, icon=":material/warning:")
            st.stop()
        if not models:
            st.info("Choose the models that answer, below the sliders.", icon=":material/info:")
            st.stop()
        predictions = predictor.predict_all(field.shift(drawn, dx, dy), recenter=recenter, models=models)
    except MnistvizError as error:
        ui.show_error(error)
        st.stop()
    if (dx, dy) != (0, 0):
        st.caption(f"Your digit moved {dx} right and {dy} down (orange on the canvas).")
    with st.container(key="grid-answers"):
        for prediction in predictions:
            show_prediction(prediction, labels[prediction.run_id], kinds[prediction.run_id])

st.subheader("Where does each model still recognise it?")
st.caption(
    "Your drawing moved to every place where it fits in the field. Colour: each model's probability of the "
    "digit below, with the drawing's centre at that place. The red cross is where it is now; the dashed "
    "square is a centered model's window. Recentering is off here: it would undo every move."
)
with st.container(width=300):
    choice = st.selectbox(
        "Digit you meant", ["what most models say", *range(10)], help="Whose probability the maps show."
    )
try:
    with st.spinner("Moving your digit everywhere..."):
        digit, position_maps = predictor.position_maps(drawn, models, None if isinstance(choice, str) else int(choice))
except MnistvizError as error:
    ui.show_error(error)
    st.stop()
with st.container(key="grid-position-maps"):
    for saved, result in position_maps:
        with st.container(gap=None, key=f"draw-position-map-{saved.run_id}"):
            st.markdown(f"**{text.markdown(saved.label)}** · {saved.run_id[-6:]}")
            st.image(pictures.position_map(result.probability, drawn, dx, dy), width="stretch")
with st.container(horizontal=True, vertical_alignment="center", gap="small"):
    st.caption("0%")
    st.image(pictures.colour_scale(), width=240)
    st.caption("100%; grey: the drawing would leave the field")
st.caption(f"The maps show the probability of a **{digit}**.")

st.subheader("Inside the models: feature maps")
st.caption(
    "The first layers' activations for your drawing at the centre of the field and where the sliders put it. "
    "A convolution's maps move along with the digit; an MLP's first-layer units change altogether."
)
by_label = {labels[saved.run_id]: saved for saved in models}
chosen_label = st.selectbox(
    "Model",
    list(by_label),
    index=drawing.feature_model_index([(saved.arch, saved.data) for saved in models]),
    key="draw-feature-model",
)
layers = features.drawing_layers(by_label[chosen_label], drawn, dx, dy)
for layer in layers:
    alike = "alike when moved along" if layer.stride else "alike as they are"
    st.markdown(
        f"**{layer.name.capitalize()}**: {layer.agreement:.0%} {alike}",
        help="Cosine similarity between the moved drawing's activations and the centered drawing's activations "
        + (
            "moved along (a convolution moves them with the digit)."
            if layer.stride
            else "(a dense layer has nothing to move)."
        )
        + " 100% means the layer saw the same thing.",
    )
    picture = (
        pictures.feature_maps(layer.centered, layer.moved)
        if layer.stride
        else pictures.dense_activations(layer.centered, layer.moved)
    )
    rows = "top: centered, bottom: moved" if layer.stride else "left: centered, right: moved"
    st.image(picture, caption=rows, width="content")
