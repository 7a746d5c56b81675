"""The Shift Lab with its grid trained, in headless Chromium: guess, lock it in, read what happened.

The grid's six centered runs hold untrained models of the grid's shapes, measured beforehand: the page's flow is
under test here, not the lesson's numbers (tests/test_bench_lab.py checks those). The test drives what a student
does: pick the models that will still read the corner, lock the guess in, and see the outcome against it, the
table, the curves and the flip gallery, on a phone, a tablet and a projector without anything squeezed or cut.
"""

import pytest

from mnistviz.analysis import lab, measures, shift_maps
from mnistviz.learning import data
from mnistviz.learning.models import model_for
from mnistviz.runs.store import RunStore
from tests.browser.test_screens_browser import (
    LAYOUT_PROBLEMS,
    NARROWEST_TEXT,
    SCREENS,
    SLOW,
    screenshot_folder,
    settled,
)
from tests.conftest import save_fake_run, synthetic_mnist
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

GUESS = ("CNN", "CNN-gmp-same")
MEASURED_DIGITS = 50  # test digits each model is measured on: what the page shows, in a quarter of the time


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory, mnist_npz):
    """The dashboard with the grid's six centered runs, measured as the Lab measures them."""
    folder = tmp_path_factory.mktemp("lab")
    runs = folder / "runs"
    store = RunStore(runs)
    ids = [save_fake_run(store, cell.spec, 0.9, 0.9) for cell in lab.grid() if not cell.spec.augment_shift]
    for run_id in ids:
        store.save_model(run_id, model_for(store.load(run_id).spec))
    variants = {name: data.make_variant(synthetic_mnist(n_test=MEASURED_DIGITS), name) for name in data.VARIANTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        for run_id in ids:
            measures.compute_measures(store, run_id)
            shift_maps.compute_shift_map(store, run_id, 2, 300)
    with serve(runs, folder / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
        yield url


@pytest.mark.parametrize("screen", ["phone", "tablet", "projector"])
def test_a_student_guesses_then_sees_the_outcome_against_the_guess(lab_url, browser, screen, tmp_path):
    width, height, touch = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=width < 900)
    try:
        page = context.new_page()
        page.goto(lab_url + "lab")
        lock = page.get_by_role("button", name="Lock in my guess")
        expect(lock).to_be_visible(timeout=SLOW)
        settled(page)
        assert not page.get_by_text("What happened").count()  # nothing is given away before the guess
        for model in GUESS:
            page.get_by_test_id("stButtonGroup").get_by_role("button", name=model, exact=True).click()
        lock.click()
        expect(page.get_by_text("Your guess was right about")).to_be_visible(timeout=SLOW)
        expect(page.get_by_text("Digits a one-pixel move changed")).to_be_visible(timeout=SLOW)
        settled(page)
        cards = page.locator('[class*="st-key-lab-outcome-"]')
        assert cards.count() == len(lab.MODELS)
        said_yes = {text.split()[0] for text in cards.all_inner_texts() if "you said yes" in text}
        assert said_yes == set(GUESS)
        expect(page.get_by_test_id("stDataFrame")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(
            4, timeout=SLOW
        )  # the border effect per padding, then two results
        problems = page.evaluate(LAYOUT_PROBLEMS, NARROWEST_TEXT)
        page.screenshot(
            path=str(screenshot_folder(tmp_path) / f"lab-results-{width}x{height}.jpg"),
            full_page=True,
            type="jpeg",
            quality=70,
        )
        assert not problems, f"lab at {width}x{height}: {problems}"
    finally:
        context.close()
