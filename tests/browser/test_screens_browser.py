"""Every page on every screen of a classroom, measured in headless Chromium: phones, tablets, projectors, laptops.

Each page at each size is checked for what made it unreadable before: text squeezed into a sliver, a
number cut off in its box, something off the side of the screen; on Draw, the canvas and the first answer
must be in view together (drawn with a finger where the screen is a touch screen). The screenshots go to
MNISTVIZ_SCREENSHOTS when it is set (the README's come from there), else to the test's own folder.
"""

import os
from pathlib import Path

import pytest

from mnistviz.learning.spec import RunSpec
from mnistviz.ui.canvas import CANVAS_SELECTOR
from tests.browser.conftest import trained_runs
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

SCREENS = {  # name: (width, height, touch)
    "phone": (390, 844, True),
    "tablet": (820, 1180, True),
    "tablet-landscape": (1180, 820, True),
    "projector": (1024, 768, False),
    "laptop": (1280, 800, False),
    "desktop": (1920, 1080, False),
}
# One browser per device; a computer's window is resized through its three sizes (the sidebar stays open at
# all three, so a resize draws what a fresh load would), where a phone or tablet loads each page at its size.
DEVICES = {
    "phone": ["phone"],
    "tablet": ["tablet"],
    "tablet-landscape": ["tablet-landscape"],
    "computer": ["desktop", "laptop", "projector"],
}
PAGES = {"home": "", "train": "train", "compare": "compare", "draw": "draw", "lab": "lab"}
READY = {  # what each page shows last, once it has run to its end
    "home": "The 2x2 matrix",
    "train": "Time per epoch",
    "compare": "Accuracy when the test digits move",
    "draw": "Draw a digit in the black square",
    "lab": "Show the results without guessing",
}
SLOW = 90_000
NARROWEST_TEXT = 120  # px: text of several words is never broken over lines in a column narrower than this
SEVEN = [(95, 90), (185, 90), (130, 200)]  # a 7 in canvas pixels

# Problems with the layout as the reader sees it: text squeezed, numbers cut, anything sideways off screen.
LAYOUT_PROBLEMS = """NARROWEST => {
    const main = document.querySelector('[data-testid="stMain"]');
    const problems = [];
    if (main.scrollWidth > main.clientWidth + 1) problems.push(`wider than the screen: ${main.scrollWidth}px`);
    const visible = element => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
    };
    const texts = main.querySelectorAll(
        '[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li, h1, h2, h3, '
        + '[data-testid="stWidgetLabel"] p, [data-testid="stCaptionContainer"]');
    for (const element of texts) {
        const words = element.innerText.trim().split(/\\s+/).filter(Boolean);
        if (words.length < 2 || !visible(element)) continue;
        const box = element.getBoundingClientRect();
        const style = getComputedStyle(element);
        const line = parseFloat(style.lineHeight) || 1.4 * parseFloat(style.fontSize);
        if (box.width < NARROWEST && box.height > 1.6 * line)  // squeezed: broken over lines in a sliver
            problems.push(`text ${Math.round(box.width)}px wide: "${element.innerText.slice(0, 40)}"`);
    }
    for (const element of main.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricDelta"]')) {
        const inner = element.querySelector('div') || element;
        if (visible(element) && inner.scrollWidth > inner.clientWidth + 1)
            problems.push(`metric cut: "${element.innerText}" needs ${inner.scrollWidth}px of ${inner.clientWidth}px`);
    }
    return problems;
}"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, mnist_npz):
    """The dashboard over the notebook's four models (tiny, trained on synthetic digits)."""
    folder = tmp_path_factory.mktemp("screens")
    runs = folder / "runs"
    specs = [
        RunSpec(arch, data, epochs=1, batch_size=50, train_size=600)
        for data in ("centered", "offset")
        for arch in ("mlp", "cnn")
    ]
    ids = trained_runs(tmp_path_factory, runs, specs)
    with serve(runs, folder / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
        yield url, ids


def screenshot_folder(tmp_path) -> Path:
    folder = Path(os.environ.get("MNISTVIZ_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settled(page) -> None:
    expect(page.locator('[data-testid="stStatusWidget"]')).to_be_hidden(timeout=SLOW)
    page.wait_for_timeout(500)


def draw_seven(page, touch: bool) -> None:
    """A 7 on the canvas: with a finger (Chromium touch events) on a touch screen, else with the mouse."""
    canvas = page.locator(CANVAS_SELECTOR)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    points = [(box["x"] + x, box["y"] + y) for x, y in SEVEN]
    if touch:
        session = page.context.new_cdp_session(page)
        session.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]}
        )
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            for step in range(1, 11):
                x, y = x0 + (x1 - x0) * step / 10, y0 + (y1 - y0) * step / 10
                session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    else:
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=10)
        page.mouse.up()


@pytest.mark.parametrize("device", list(DEVICES))
def test_every_page_is_readable_on_this_screen(app_url, browser, device, tmp_path):
    url, ids = app_url
    screens = [SCREENS[screen] for screen in DEVICES[device]]
    width, height, touch = screens[0]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=width < 900)
    folder = screenshot_folder(tmp_path)
    try:
        page = context.new_page()
        for name, path in PAGES.items():
            page.goto(url + path + (f"?run={ids[-1]}" if name == "train" else ""))
            expect(page.get_by_text(READY[name]).first).to_be_visible(timeout=SLOW)
            settled(page)
            if name == "draw":
                draw_seven(page, touch)
                expect(page.locator('[class*="st-key-draw-answer-"]').first).to_be_visible(timeout=SLOW)
            for width, height, _ in screens:
                page.set_viewport_size({"width": width, "height": height})
                settled(page)
                if name == "draw":
                    answer_beside_canvas(page, height)
                problems = page.evaluate(LAYOUT_PROBLEMS, NARROWEST_TEXT)
                page.screenshot(path=str(folder / f"{name}-{width}x{height}.jpg"), type="jpeg", quality=70)
                assert not problems, f"{name} at {width}x{height}: {problems}"
    finally:
        context.close()


def answer_beside_canvas(page, height: int) -> None:
    """From the top of Draw, the canvas, the first answer and the move controls are all on screen."""
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    canvas = page.locator(CANVAS_SELECTOR).bounding_box()
    says = page.locator('[class*="st-key-draw-answer-"]').first.get_by_text(" says ").bounding_box()
    assert canvas["y"] >= 0 and canvas["y"] + canvas["height"] <= height, f"canvas off screen: {canvas}"
    assert 0 <= says["y"] and says["y"] + says["height"] <= height, f"first answer off screen: {says}"
    slider = page.get_by_test_id("stSlider").first.bounding_box()  # seen 1,294 px below the canvas
    assert slider["y"] + slider["height"] <= height, f"the move controls off screen: {slider}"


def test_presentation_mode_is_readable_from_the_back_of_the_room(app_url, browser, tmp_path):
    url, ids = app_url
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        page.goto(url)
        expect(page.get_by_test_id("stHeading").first).to_be_visible(timeout=SLOW)
        page.get_by_text("Presentation mode").click()  # the toggle puts it in the address, for a bookmark
        page.wait_for_function("() => location.search.includes('present=1')", timeout=SLOW)
        for path in ("compare?present=1", f"train?run={ids[-1]}&present=1"):
            page.goto(url + path)
            expect(page.get_by_test_id("stHeading").first).to_be_visible(timeout=SLOW)
            settled(page)
            expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
            expect(page.locator(".js-plotly-plot .xtick text").first).to_be_attached(timeout=SLOW)
            small = page.evaluate("""() => Array.from(document.querySelectorAll(
                    '[data-testid="stMain"] p, [data-testid="stMain"] label, [data-testid="stMain"] h1, '
                    + '[data-testid="stMain"] li, [data-testid="stMain"] button'))
                .filter(e => e.innerText.trim() && e.getBoundingClientRect().width > 0)
                .map(e => [e.innerText.slice(0, 30), parseFloat(getComputedStyle(e).fontSize)])
                .filter(([, size]) => size < 20)""")
            assert not small, f"{path}: text smaller than 20 px: {small}"
            ticks = page.evaluate("""() => Array.from(document.querySelectorAll('.xtick text, .ytick text'))
                .map(e => parseFloat(e.style.fontSize))""")
            assert min(ticks) >= 16, f"{path}: ticks of {min(ticks)} px"
            lines = page.evaluate("""() => Array.from(document.querySelectorAll('.js-line'))
                .map(e => parseFloat(e.style.strokeWidth))""")
            assert not lines or min(lines) >= 3, f"{path}: lines of {min(lines)} px"
            page.screenshot(
                path=str(screenshot_folder(tmp_path) / f"presentation-{path.split('?')[0]}-1024x768.jpg"),
                type="jpeg",
                quality=70,
            )
    finally:
        page.close()
