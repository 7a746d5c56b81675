"""The Draw page in headless Chromium: a real server, real mouse strokes on the canvas, every model answers."""

import io

import numpy as np
import pytest
from PIL import Image

from mnistviz.learning.spec import RunSpec
from mnistviz.ui.canvas import CANVAS_SELECTOR
from tests.browser.conftest import trained_runs
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

MODELS = ("MLP centered", "CNN offset")
SERVER_LOG = {}  # the served dashboard's log, which the tests read


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, browser):
    """The dashboard served from a private runs folder holding two trained runs; stopped afterwards."""
    folder = tmp_path_factory.mktemp("draw-browser")
    runs = folder / "runs"
    trained_runs(  # an MLP on centered and a CNN on offset synthetic digits, one short epoch each
        tmp_path_factory,
        runs,
        [
            RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600),
            RunSpec("cnn", "offset", epochs=1, batch_size=50, train_size=600),
        ],
    )
    with serve(runs, SERVER_LOG.setdefault("path", folder / "streamlit.log")) as url:
        yield url


@pytest.fixture
def page(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(app_url)
        page.get_by_role("link", name="Draw").click()
        yield page
    finally:
        page.close()


def stroke(page, box: dict, points: list[tuple[int, int]]) -> None:
    """One pen stroke through `points`, in canvas pixels."""
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=10)
    page.mouse.up()


def test_a_drawn_digit_is_answered_by_every_model(page, tmp_path):
    canvas = page.locator(CANVAS_SELECTOR)
    canvas.wait_for(timeout=60_000)
    page.get_by_text("Draw a digit in the black square").wait_for(timeout=60_000)
    box = canvas.bounding_box()
    assert (box["width"], box["height"]) == (280, 280)

    shown = Image.open(io.BytesIO(canvas.screenshot())).convert("L")
    assert max(shown.crop((130, 68, 150, 73)).getdata()) > 100  # the window's dashed top edge is visible

    stroke(page, box, [(95, 90), (185, 90), (130, 200)])  # a 7 inside the window
    for label in MODELS:
        page.get_by_text(f"{label} says").wait_for(timeout=60_000)
    # the page may still be rerunning for the last stroke update: wait for it to settle
    expect(page.get_by_text(" says ")).to_have_count(len(MODELS), timeout=30_000)
    expect(page.locator('[class*="st-key-draw-answer-"] [data-testid="stImage"] img')).to_have_count(
        len(MODELS), timeout=30_000
    )
    expect(page.locator('[data-testid="stStatusWidget"]')).to_be_hidden(timeout=30_000)
    offset_card = page.locator('[class*="st-key-draw-answer-"]').filter(has_text="input 56x56")
    field_view = offset_card.locator('[data-testid="stImage"] img')
    shot = Image.open(io.BytesIO(field_view.screenshot())).convert("L")
    seen = np.asarray(shot.resize((56, 56), Image.BOX))  # back to the field's pixels
    assert seen[17:20, 20:35].max() > 200  # the 7's top bar, field rows 17-19, reached the offset model
    assert seen[12:16, 10:50].max() < 60  # the window's edge (field row 14) did not: it is background, not ink

    for moved_by in (1, 2, 3):  # three pixels right: the canvas shows the 7's copy in orange, 15 canvas pixels on
        page.get_by_role("button", name="arrow_forward").click()
        page.get_by_text(f"Your digit moved {moved_by} right").wait_for(timeout=30_000)
    moved = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")).astype(int)[
        10:-10, 10:-10
    ]  # not the corners: page white
    white = np.argwhere(moved.min(axis=2) > 200)
    red, green, blue = moved[..., 0], moved[..., 1], moved[..., 2]
    orange = np.argwhere((red > 180) & (green > 110) & (green < 190) & (blue < 80))
    assert len(orange) > 200, "no moved copy on the canvas"
    assert abs(orange[:, 1].max() - white[:, 1].max() - 15) <= 2  # its right edge: the ink's, 15 px on
    assert abs(orange[:, 0].max() - white[:, 0].max()) <= 2  # and not moved down
    assert "Session State API" not in SERVER_LOG["path"].read_text()  # the arrows set a slider with no default

    screenshot = tmp_path / "draw-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot: {screenshot}")
