"""The Draw page under AppTest: empty states, an injected drawing, moving and recentering it, broken runs."""

import base64
import io

import keras
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnistviz.analysis import drawing
from mnistviz.learning import field
from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from tests.conftest import open_page, save_fake_run, shown

CANVAS_KEY = "draw_canvas_0"


def open_draw_page() -> AppTest:
    return open_page("pages/draw.py")


def canvas_value(field: np.ndarray) -> dict:
    """What the canvas sends for a drawing (streamlit-drawable-canvas's state): white strokes on a transparent
    280x280 PNG, with the strokes' JSON beside it."""
    ink = drawing.enlarge(field, 5)
    rgba = np.dstack([np.full_like(ink, 255)] * 3 + [ink])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}


def seven() -> np.ndarray:
    field = np.zeros((56, 56), np.uint8)
    field[19:22, 20:36] = 255
    for row in range(22, 38):
        col = 34 - (row - 22) // 2
        field[row, col : col + 3] = 255
    return field


def draw(at: AppTest, field: np.ndarray, key: str = CANVAS_KEY) -> AppTest:
    at.session_state[key] = canvas_value(field)
    at.run()
    assert not at.exception, at.exception
    return at


def answers(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if " says :red-badge" in m.value]


@pytest.fixture
def two_models(runs_dir):
    """Two saved runs with untrained models: enough to see the page answer, no training needed."""
    store = RunStore(runs_dir)
    runs = {}
    for arch, data_name in (("mlp", "centered"), ("cnn", "offset")):
        spec = RunSpec(arch, data_name)
        run_id = save_fake_run(store, spec, 0.9, 0.9)
        store.save_model(run_id, build_model(arch, spec.image_size))
        runs[(arch, data_name)] = run_id
    return runs


def test_without_saved_models_it_says_so_and_links_to_train(runs_dir):
    at = open_draw_page()
    assert any("No saved models yet" in info.value for info in at.info)
    assert not answers(at)


def test_with_models_and_no_drawing_it_asks_for_one(two_models):
    at = open_draw_page()
    assert any("Draw a digit" in info.value for info in at.info)
    assert not answers(at) and not at.error


def test_a_drawing_gets_an_answer_from_every_model(two_models):
    at = draw(open_draw_page(), seven())
    lines = answers(at)
    assert len(lines) == 2
    assert any(line.startswith("**MLP centered** says") for line in lines)
    assert any(line.startswith("**CNN offset** says") for line in lines)
    sizes = sorted(c.value.rsplit("· ", 1)[1] for c in at.caption if c.value.endswith(("28x28", "56x56")))
    assert sizes == ["input 28x28", "input 56x56"]
    assert sum("probabilities of the digits" in html.proto.body for html in at.get("html")) == 2


def test_a_drawing_gets_position_maps_and_feature_maps(two_models):
    at = draw(open_draw_page(), seven())
    maps = [m for m in at.markdown if m.value.startswith(("**MLP centered** · ", "**CNN offset** · "))]
    assert len(maps) == 2  # one position map per model
    assert any("The maps show the probability of a" in caption.value for caption in at.caption)
    feature_model = at.selectbox(key="draw-feature-model")
    for label in feature_model.options:
        feature_model.set_value(label)
        at.run()
        assert not at.exception
        layers = [m.value for m in at.markdown if m.value.startswith("**First") or m.value.startswith("**Second")]
        names = {line.split("**")[1] for line in layers}
        assert names in ({"First dense layer"}, {"First convolution", "Second convolution"})
        assert all("% alike" in line for line in layers)
    digit = next(s for s in at.selectbox if s.label == "Digit you meant")
    digit.set_value(3)
    at.run()
    assert not at.exception
    assert any("probability of a **3**" in caption.value for caption in at.caption)


def band_answer(view: np.ndarray) -> int:
    """What `column_band_mlp` answers: the band of three columns of its 28x28 input holding the most ink."""
    ink = view.astype(np.float64).sum(axis=0)
    return int(np.argmax([ink[3 * band : 3 * band + 3].sum() for band in range(10)]))


def column_band_mlp() -> keras.Model:
    """The notebook's centered MLP with weights set by hand: it answers k when columns 3k..3k+2 hold the most ink.

    So its answer says where the ink is in what it was given: a moved input moves the answer.
    """
    model = build_model("mlp", 28)
    first, second, last = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    columns = np.tile(np.arange(28), 28)
    band = np.zeros((28 * 28, 512), np.float32)
    for k in range(10):
        band[(columns // 3 == k) & (columns < 30), k] = 1.0
    first.set_weights([band, np.zeros(512, np.float32)])
    second.set_weights([np.eye(512, 256, dtype=np.float32) * 10, np.zeros(256, np.float32)])
    last.set_weights([np.eye(256, 10, dtype=np.float32), np.zeros(10, np.float32)])
    return model


@pytest.fixture
def band_model(runs_dir):
    store = RunStore(runs_dir)
    run_id = save_fake_run(store, RunSpec("mlp", "centered", name="Bands"), 0.9, 0.9)
    store.save_model(run_id, column_band_mlp())
    return run_id


def band_said(at: AppTest) -> int:
    (line,) = [line for line in answers(at) if line.startswith("**Bands** says")]
    return int(line.split(":red-badge[**")[1][0])


def test_the_sliders_move_what_the_model_sees_and_recentering_undoes_it(band_model):
    digit = seven()
    at = draw(open_draw_page(), digit)
    assert band_said(at) == band_answer(field.window(digit))
    sliders = {s.label: s for s in at.slider}
    sliders["Move right (dx)"].set_value(-9)
    sliders["Move down (dy)"].set_value(5)
    at.run()
    moved = field.shift(digit, -9, 5)
    assert band_answer(field.window(moved)) != band_answer(field.window(digit))  # the move shows in the answer
    assert band_said(at) == band_answer(field.window(moved))
    at.toggle(key="recenter").set_value(True)
    at.run()
    recentered = drawing.recenter(moved)
    assert band_answer(field.window(recentered)) != band_answer(field.window(moved))
    assert band_said(at) == band_answer(field.window(recentered))
    sliders = {s.label: s for s in at.slider}
    sliders["Move right (dx)"].set_value(6)
    at.run()
    assert band_said(at) == band_answer(field.window(recentered))  # recentered, a move changes nothing


def test_moving_and_recentering_re_predict_every_model(two_models):
    at = draw(open_draw_page(), seven())
    sliders = {s.label: s for s in at.slider}
    sliders["Move right (dx)"].set_value(14)
    sliders["Move down (dy)"].set_value(-14)
    at.run()
    assert not at.exception and len(answers(at)) == 2
    at.toggle(key="recenter").set_value(True)
    at.run()
    assert not at.exception and len(answers(at)) == 2


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (np.zeros((56, 56), np.uint8), "Draw a digit"),  # a pad with no ink left
        (np.pad(np.full((2, 2), 255, np.uint8), 27), "only a dot"),
        (np.full((56, 56), 255, np.uint8), "Almost everything is ink"),
    ],
)
def test_unusable_drawings_are_explained_not_predicted(two_models, field, message):
    at = draw(open_draw_page(), field)
    assert any(message in element.value for element in [*at.info, *at.warning])
    assert not answers(at)


@pytest.mark.parametrize("forged", ["data:image/png;base64,%%%", 12, "data:image/png;base64," + "A" * 2_000_000])
def test_a_forged_drawing_is_refused_with_a_message(two_models, forged):
    at = open_draw_page()
    at.session_state[CANVAS_KEY] = {"drawing": {"raw": {"objects": []}, "data": forged}, "backgroundFit": None}
    at.run()
    assert not at.exception
    assert any("draw again" in error.value for error in at.error) and not answers(at)


@pytest.mark.parametrize("forged", [{"drawing": "x"}, {"drawing": {"raw": 5}}, "x", {"backgroundFit": {"a": 1}}])
def test_a_forged_canvas_state_gives_a_new_canvas_never_a_traceback(two_models, forged):
    at = open_draw_page()
    at.session_state[CANVAS_KEY] = forged
    at.run()
    assert not at.exception
    assert not answers(at) and at.get("bidi_component")  # a canvas to draw on, and no answers to nothing


def test_clear_gives_a_new_empty_canvas(two_models):
    at = draw(open_draw_page(), seven())
    next(button for button in at.button if button.label == "Clear").click()
    at.run()
    assert not at.exception
    assert any("Draw a digit" in info.value for info in at.info) and not answers(at)


def test_a_broken_model_is_named_and_the_others_still_answer(two_models, runs_dir):
    store = RunStore(runs_dir)
    broken = two_models[("cnn", "offset")]
    (store.folder(broken) / "model.keras").write_bytes(b"garbage")
    at = draw(open_draw_page(), seven())
    assert any(broken in shown(error.value) and "cannot be used" in error.value for error in at.error)
    assert len(answers(at)) == 1


def test_the_models_answering_are_the_best_of_each_notebook_cell_and_the_teachers_pins(runs_dir):
    store = RunStore(runs_dir)
    ids = {}
    for name, arch, accuracy in (
        ("old", "mlp", 0.90),
        ("best", "mlp", 0.95),
        ("cnn", "cnn", 0.80),
        ("pin", "mlp", 0.5),
    ):
        spec = RunSpec(arch, "centered", name=name)
        ids[name] = save_fake_run(store, spec, accuracy, accuracy)
        store.save_model(ids[name], build_model(arch, 28))
    at = draw(open_draw_page(), seven())
    assert {line.split("**")[1] for line in answers(at)} == {"best", "cnn"}  # not every run: one per cell
    picker = at.multiselect(key="draw-models")
    assert len(picker.options) == 4  # every run with a model may be added
    picker.set_value([ids["old"]])
    at.run()
    assert [line.split("**")[1] for line in answers(at)] == ["old"]
    store.pin([ids["pin"]])
    fresh = draw(open_draw_page(), seven())
    assert [line.split("**")[1] for line in answers(fresh)] == ["pin", "best", "cnn"]  # pinned first


def test_the_arrows_nudge_the_digit_one_pixel(band_model, monkeypatch, caplog):
    from streamlit.elements.lib import policies

    monkeypatch.setattr(policies, "_shown_default_value_warning", False)  # Streamlit warns once per process
    at = draw(open_draw_page(), seven())
    for name, axis, expected in (("right", "dx", 1), ("right", "dx", 2), ("up", "dy", -1), ("left", "dx", 1)):
        at.button(key=f"nudge-{name}").click()
        at.run()
        assert at.slider(key=axis).value == expected
    assert band_said(at) == band_answer(field.window(field.shift(seven(), 1, -1)))
    assert "Session State API" not in caplog.text  # the server's log: no widget with a default and a state value


def test_the_feature_maps_open_on_a_cnn(two_models):
    at = draw(open_draw_page(), seven())
    assert at.selectbox(key="draw-feature-model").value.startswith("CNN offset")
