"""Home, Train, Compare and Draw in headless Chromium: a real server on real MNIST, a run trained from the form."""

import re
import time
from typing import NamedTuple
from urllib.parse import parse_qs, urlparse

import pytest

from mnistviz.learning.spec import RunSpec
from mnistviz.ui.canvas import CANVAS_SELECTOR
from tests.browser.conftest import require_mnist, trained_runs
from tests.server import serve

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

VIEWPORT = {"width": 1280, "height": 800}
TALL_VIEWPORT = {"width": 1280, "height": 2200}
WAIT = 60_000  # ms: a fresh server imports TensorFlow on its first page, and the machine may be shared
SLOW = 300_000  # ms: for training and shift maps, which a busy machine (and a watched run) slow many times over
expect = type(playwright_api.expect)()  # this module's own expect, with its own default timeout
expect.set_options(timeout=WAIT)
TRAINED = {
    ("mlp", "centered"): "MLP, trained on centered 28x28 digits",
    ("cnn", "offset"): "CNN, trained on offset in 56x56 digits",
}
UNTRAINED = "MLP, trained on offset in 56x56 digits"  # no test trains it: Home keeps offering to
# Points plotted in every copy of a chart (a rerun briefly shows the old copy beside the new one): the largest.
POINTS = "charts => Math.max(0, ...charts.map(gd => (gd.calcdata || []).reduce((n, trace) => n + trace.length, 0)))"

# Leave the last clicked widget (the browser keeps it in view) and scroll every container back to the top.
TO_THE_TOP = (
    "() => { document.activeElement.blur(); document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; }); }"
)


class Served(NamedTuple):
    url: str
    run_ids: dict  # (arch, data) -> run id of the runs trained before the server started


@pytest.fixture(scope="module")
def app(tmp_path_factory, browser):
    """The dashboard over a private runs folder with two tiny runs (MLP centered, CNN offset); stopped afterwards."""
    require_mnist()
    folder = tmp_path_factory.mktemp("pages-browser")
    runs = folder / "runs"
    specs = [RunSpec(arch, data, epochs=1, batch_size=50, train_size=600) for arch, data in TRAINED]
    run_ids = dict(zip(TRAINED, trained_runs(tmp_path_factory, runs, specs), strict=True))
    with serve(runs, folder / "streamlit.log") as url:
        yield Served(url, run_ids)


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT)
    try:
        yield page
    finally:
        page.close()


def settled(page) -> None:
    """Wait until the app is not running a script (the status widget is gone) and the page has painted."""
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def save_screenshots(page, folder, name: str) -> None:
    """`name`.png at 1280x800 and `name`-full.png at 1280x2200, both from the top of the page.

    Streamlit scrolls inside its own container, so a full-page screenshot is a tall viewport instead.
    """
    page.evaluate(TO_THE_TOP)
    settled(page)
    page.screenshot(path=str(folder / f"{name}.png"))
    page.set_viewport_size(TALL_VIEWPORT)
    settled(page)
    page.screenshot(path=str(folder / f"{name}-full.png"))
    page.set_viewport_size(VIEWPORT)
    print(f"screenshots: {folder / name}.png, {folder / name}-full.png")


def chart(page, key: str):
    """The plotly chart drawn with `key` (Streamlit marks its element with the class st-key-KEY).

    While a rerun replaces an element the old copy may still stand beside the new one: take the first.
    """
    return page.locator(f".st-key-{key} .js-plotly-plot").first


def points(page, key: str) -> int:
    """How many points the chart drawn with `key` plots (its newest copy: the most points)."""
    return page.locator(f".st-key-{key} .js-plotly-plot").evaluate_all(POINTS)


def wait_for_points(page, key: str, more_than: int) -> None:
    selector = f".st-key-{key} .js-plotly-plot"
    script = f"() => ({POINTS})(Array.from(document.querySelectorAll('{selector}'))) > {more_than}"
    page.wait_for_function(script, timeout=SLOW)


def heading(page, text: str):
    return page.get_by_test_id("stHeading").filter(has_text=text).first


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_role("spinbutton", name=label, exact=True)
    field.fill(str(value))
    field.press("Tab")  # a number input commits its value when it loses focus


def start_cnn_run(page, url: str, train_size: int) -> str:
    """Open Train, submit a CNN on centered digits for 3 epochs in batches of 50; the run id from the address."""
    page.goto(url + "train")
    page.get_by_text("CNN (convolutions)").click()
    settled(page)  # the batch size input is keyed by architecture: set it after the switch
    wanted = {"Training digits": train_size, "Epochs": 3, "Batch size": 50}
    for _ in range(3):  # a rerun still under way on a busy machine may draw the form afresh: set it again
        for label, value in wanted.items():
            set_number(page, label, value)
        settled(page)
        shown = {label: page.get_by_role("spinbutton", name=label, exact=True).input_value() for label in wanted}
        if shown == {label: str(value) for label, value in wanted.items()}:
            break
    before = page.url
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    page.wait_for_url(lambda address: "run=" in address and address != before, timeout=WAIT)
    return parse_qs(urlparse(page.url).query)["run"][0]


def test_home_shows_the_four_notebook_models(page, app, tmp_path):
    page.goto(app.url)
    expect(page.get_by_text("The notebook's four models")).to_be_visible()
    cards = page.get_by_test_id("stVerticalBlock")
    for title in TRAINED.values():
        card = cards.filter(has_text=title).last
        value = card.get_by_test_id("stMetric").filter(has_text="Test accuracy").get_by_test_id("stMetricValue")
        expect(value).to_have_text(re.compile(r"^\d+\.\d\d%$"))
        expect(card.get_by_text("points vs notebook")).to_be_visible()
    untrained = cards.filter(has_text=UNTRAINED).last
    expect(untrained.get_by_text("Not trained yet")).to_be_visible()
    expect(untrained.get_by_role("button", name="Train with the notebook's settings")).to_be_visible()
    expect(page.get_by_role("button", name="Train with the notebook's settings")).not_to_have_count(0)
    save_screenshots(page, tmp_path, "home")


def test_compare_shows_table_curves_matrix_and_shift_maps(page, app, tmp_path):
    page.goto(app.url + "compare")
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()  # drawn on a canvas: its cells are not in the DOM
    expect(page.get_by_role("button", name=re.compile("Download the table as CSV"))).to_be_visible()
    curves = chart(page, "compare-curves")
    expect(curves).to_be_visible()
    chosen = page.get_by_test_id("stMultiSelect").first.locator("[data-tag]").count()  # the runs compared
    assert chosen >= len(TRAINED)
    legend = curves.evaluate("gd => gd.data.filter(trace => trace.showlegend !== false).map(trace => trace.name)")
    assert len(legend) == len(set(legend)) == chosen  # one legend entry per run, not one per chart

    for arch in ("mlp", "cnn"):  # the 2x2 matrix: the trained cell's row holds two accuracies
        expect(chart(page, f"matrix-{arch}")).to_be_visible(timeout=SLOW)
    for arch, data in TRAINED:
        row = 0 if data == "centered" else 1
        values = chart(page, f"matrix-{arch}").evaluate(f"gd => gd.calcdata[0][0].z[{row}]")
        assert all(0 <= value <= 1 for value in values), values

    set_number(page, "Test digits per shift", 100)
    settled(page)
    set_number(page, "Grid step (pixels)", 7)
    settled(page)
    page.get_by_role("button", name=re.compile(r"Compute the shift maps and consistency of \d+ run")).click()
    heatmaps = page.locator(".st-key-grid-shift-maps .js-plotly-plot")
    expect(heatmaps.first).to_be_visible(timeout=SLOW)
    expect(chart(page, "shift-curves")).to_be_visible()
    expect(heatmaps).to_have_count(chosen)  # one map per run
    save_screenshots(page, tmp_path, "compare")


def test_draw_page_opens_with_the_canvas(page, app, tmp_path):
    page.goto(app.url + "draw")
    expect(page.locator(CANVAS_SELECTOR)).to_be_visible()
    expect(page.get_by_text("Draw a digit in the black square")).to_be_visible()
    save_screenshots(page, tmp_path, "draw")


def test_a_run_started_from_the_form_is_drawn_live_then_shows_its_results(page, app, tmp_path):
    run_id = start_cnn_run(page, app.url, train_size=600)
    expect(heading(page, "CNN centered: running")).to_be_visible(timeout=SLOW)  # the server's first run loads Keras
    progress = page.get_by_test_id("stProgress")
    points_seen, progress_seen = [], []
    finished = heading(page, "CNN centered: finished")
    deadline = time.monotonic() + SLOW / 1000
    while not finished.count() and time.monotonic() < deadline:  # what the page shows, every 0.2 s
        points_seen.append(points(page, "live-curves"))
        progress_seen += progress.all_inner_texts()[:1]
        page.wait_for_timeout(200)
    expect(finished).to_be_visible()
    growth = sorted({points for points in points_seen if points})
    assert len(growth) >= 2, f"the live chart did not grow while the run trained: {points_seen}"
    assert points_seen.index(growth[0]) < points_seen.index(growth[-1])
    assert len(set(progress_seen)) >= 2, f"the progress text did not change: {progress_seen}"
    assert parse_qs(urlparse(page.url).query)["run"] == [run_id]

    metric = page.get_by_test_id("stMetric").filter(has_text="Test accuracy")
    expect(metric.get_by_test_id("stMetricValue")).to_have_text(re.compile(r"^\d+\.\d\d%$"))
    expect(page.get_by_test_id("stMetric").filter(has_text="Epochs")).to_contain_text("3 of 3")
    expect(page.get_by_text("Confusion matrix")).to_be_visible()
    expect(chart(page, "confusion")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Misclassified test digits \(\d+ of 5000\)"))).to_be_visible()
    expect(chart(page, "mistakes")).to_be_visible()
    save_screenshots(page, tmp_path, "train")


def test_a_reload_mid_run_keeps_showing_the_same_run_training(page, app, browser):
    run_id = start_cnn_run(page, app.url, train_size=6000)
    wait_for_points(page, "live-curves", more_than=0)
    before = points(page, "live-curves")

    page.reload()
    assert parse_qs(urlparse(page.url).query)["run"] == [run_id]
    expect(heading(page, "CNN centered: running")).to_be_visible()
    wait_for_points(page, "live-curves", more_than=before)  # and it is still learning

    other = browser.new_page(viewport=VIEWPORT)  # an address naming another run shows that run, not the busy one
    try:
        other.goto(app.url + f"train?run={app.run_ids['mlp', 'centered']}")
        expect(heading(other, "MLP centered: finished")).to_be_visible()
    finally:
        other.close()

    page.locator(".st-key-stop button").click()  # a stopped run keeps its model; the server then stops at once
    expect(heading(page, "CNN centered: stopped")).to_be_visible(timeout=SLOW)
    assert parse_qs(urlparse(page.url).query)["run"] == [run_id]
