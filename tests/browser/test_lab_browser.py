"""The Shift Lab with its grid trained, in headless Chromium: guess, lock it in, read what happened.

The grid's six centered runs hold untrained models of the grid's shapes, measured beforehand: the page's flow is
under test here, not the lesson's numbers (tests/test_bench_lab.py checks those). The test drives what a student
does: pick the models that will still read the corner, lock the guess in, and see the outcome against it, the
table, the curves and the flip gallery, on a phone, a tablet and a projector without anything squeezed or cut.
"""

import shutil

import pytest

from mnistviz.analysis import lab
from tests.browser.test_screens_browser import (
    LAYOUT_PROBLEMS,
    NARROWEST_TEXT,
    SCREENS,
    SLOW,
    screenshot_folder,
    settled,
)
from tests.conftest import measured_lab_grid
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

GUESS = ("CNN", "CNN-gmp-same")


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory, mnist_npz):
    """The dashboard with the grid's six centered runs, measured as the Lab measures them (tests/conftest.py)."""
    folder = tmp_path_factory.mktemp("lab")
    shutil.copytree(measured_lab_grid(tmp_path_factory), folder / "runs", copy_function=shutil.copy2)
    with serve(folder / "runs", folder / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
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
