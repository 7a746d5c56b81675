"""In a real browser, run names that try to deface the page or fetch a URL are shown as the text they are."""

import pytest

from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.ui.canvas import CANVAS_SELECTOR
from tests.conftest import save_fake_run
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

TRAP = "127.0.0.1:9"  # the discard port: nothing answers, but a request to it would still be made
NAMES = [
    f"![x](http://{TRAP}/p.png)",
    f"[grades](http://{TRAP}/grades)",
    ":red-background[HACKED] :skull:",
    "$\\Huge X$",
    f'<a href="http://{TRAP}/">legend link</a>',
]
SEVEN = [(95, 90), (185, 90), (130, 200)]


def test_hostile_names_are_literal_text_and_fetch_nothing(browser, tmp_path, mnist_npz):
    runs = tmp_path / "runs"
    store = RunStore(runs)
    ids = []
    for name in NAMES:
        ids.append(save_fake_run(store, RunSpec("mlp", "centered", name=name), 0.9, 0.9))
        store.save_model(ids[-1], build_model("mlp", 28))
    store.pin(ids)  # all on Draw: by default it shows one run of each notebook cell
    with serve(runs, tmp_path / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requested = []
        page.on("request", lambda request: requested.append(request.url) if TRAP in request.url else None)
        try:
            for name, run_id in zip(NAMES, ids, strict=True):
                page.goto(url + f"train?run={run_id}")
                heading = page.get_by_test_id("stHeading").filter(has_text=": finished")
                expect(heading).to_have_text(f"{name}: finished", timeout=90_000)
                assert heading.locator("img, a[href*='127.0.0.1'], .katex, span[style]").count() == 0

            page.goto(url + "draw")
            canvas = page.locator(CANVAS_SELECTOR)
            canvas.wait_for(timeout=90_000)
            box = canvas.bounding_box()
            page.mouse.move(box["x"] + SEVEN[0][0], box["y"] + SEVEN[0][1])
            page.mouse.down()
            for x, y in SEVEN[1:]:
                page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
            page.mouse.up()
            expect(page.get_by_text(" says ")).to_have_count(len(NAMES), timeout=90_000)
            main = page.get_by_test_id("stMain")
            for name in NAMES:
                expect(main.get_by_text(f"{name} says", exact=False).first).to_be_visible()
            assert main.locator("a[href*='127.0.0.1:9'], img[src*='127.0.0.1:9'], .katex").count() == 0

            page.goto(url + "compare")
            legend = page.locator(".st-key-compare-curves .legendtext")
            expect(legend.first).to_be_visible(timeout=90_000)
            shown = " ".join(legend.evaluate_all("texts => texts.map(t => t.textContent)"))
            assert '<a href="http://127.0.0.1:9/">legend link</a>' in shown  # the tag as text, not a link
            assert page.locator(".st-key-compare-curves a").count() == 0
        finally:
            page.close()
    assert requested == []
