"""Train on a phone: after pressing Train, the run's title and progress are in view, not below the form."""

import re

import pytest

from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

SLOW = 90_000


def test_pressing_train_on_a_phone_brings_the_run_into_view(browser, tmp_path, mnist_npz):
    with serve(tmp_path / "runs", tmp_path / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
        try:
            page = context.new_page()
            page.goto(url + "train")
            expect(page.get_by_text("No run yet")).to_be_visible(timeout=SLOW)
            for label, value in (("Epochs", "1"), ("Training digits", "600"), ("Batch size", "100")):
                box = page.get_by_label(label, exact=True)
                box.fill(value)
                box.press("Tab")
            page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
            title = page.get_by_test_id("stHeading").filter(has_text=re.compile(r"^MLP centered: "))
            expect(title).to_be_visible(timeout=SLOW)
            expect(title).to_be_in_viewport(ratio=1, timeout=10_000)  # the page scrolls once the run's pane is drawn
            expect(page).to_have_url(re.compile(r"[?&]run=\d{8}-\d{6}-mlp-centered-"))  # the address holds it
        finally:
            context.close()
