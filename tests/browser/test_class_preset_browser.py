"""The teacher presses the class preset on the projector: while its runs wait and train, every page tells one story.

Home and Compare never call a queued or training cell "Not trained yet" (nor offer to train it again), and in
presentation mode at 1024x768 Train shows the training run's live curves within the first screen.
"""

import pytest

from tests.browser.conftest import require_mnist
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PROJECTOR = {"width": 1024, "height": 768}


def test_while_the_class_preset_trains_no_page_says_not_trained_and_train_shows_the_curves_first(
    browser, tmp_path, mnist_npz
):
    require_mnist()
    with serve(tmp_path / "runs", tmp_path / "streamlit.log", MNISTVIZ_DATA=str(mnist_npz)) as url:
        page = browser.new_page(viewport=PROJECTOR)
        try:
            page.goto(url + "?present=1")
            page.get_by_role("button", name="Train all four for a lesson").click()
            watch = page.get_by_role("link", name="Watch it on Train")
            expect(watch.first).to_be_visible()
            expect(page.get_by_text("Train the 4 missing")).to_have_count(0)
            expect(page.get_by_text("Not trained yet")).to_have_count(0)  # the cards and the 2x2 matrix alike
            expect(page.get_by_role("button", name="Train with the notebook's settings")).to_have_count(0)

            watch.first.click()  # the same session: the preset turned on "Follow the class's queue"
            curves = page.locator(".st-key-live-curves")
            expect(curves).to_be_visible()
            box = curves.bounding_box()
            assert box["y"] < PROJECTOR["height"], f"the live curves start {box['y']:.0f} px down"

            other = browser.new_page(viewport=PROJECTOR)
            try:
                other.goto(url + "compare")
                expect(other.get_by_role("heading", name="Compare runs", exact=True)).to_be_visible()
                expect(other.get_by_text("Delete runs", exact=True)).to_be_visible()  # the page drawn to its end
                expect(other.get_by_text("Not trained yet")).to_have_count(0)
            finally:
                other.close()
        finally:
            page.close()
