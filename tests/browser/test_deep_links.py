"""A link straight to a page, as the very first request to a freshly started server, opens that page whole."""

import pytest

from tests.server import serve

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = type(playwright_api.expect)()
expect.set_options(timeout=90_000)  # the first page of a fresh server imports TensorFlow

SIDEBAR = ["Home", "Train", "Compare", "Draw", "Shift Lab"]
ICONS = ["home", "model_training", "compare_arrows", "draw", "science"]


def sidebar_links(page) -> list[tuple[str, str]]:
    """(label, icon name) of every link in the sidebar, in order."""
    links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink")
    return [
        (link.get_by_text(label, exact=True).inner_text(), link.get_by_test_id("stIconMaterial").inner_text())
        for link, label in zip(links.all(), SIDEBAR, strict=True)
    ]


def test_a_deep_link_to_draw_on_a_fresh_server_shows_the_page_with_the_full_sidebar(browser, tmp_path):
    runs = tmp_path / "runs"
    with serve(runs, tmp_path / "streamlit.log", MNISTVIZ_TEACHER_PASSCODE="owl-42-tree") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            page.goto(url + "draw")  # the server's very first request
            expect(page.get_by_role("heading", name="Draw a digit")).to_be_visible()
            expect(page).to_have_title("Draw · mnistviz")
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_test_id("stPageLink-NavLink")).to_have_count(len(SIDEBAR))
            assert sidebar_links(page) == list(zip(SIDEBAR, ICONS, strict=True))
            expect(sidebar.get_by_label("Teacher passcode", exact=True)).to_be_visible()
            expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # no automatic menu of file names

            def owner_cookie() -> list[str]:
                return [c["value"] for c in page.context.cookies() if c["name"] == "mnistviz_owner"]

            page.wait_for_function("() => document.cookie.includes('mnistviz_owner=')")
            (token,) = owner_cookie()  # the browser keeps its owner token, so Stop on its runs survives a reload
            assert len(token) >= 16 and token not in page.url
            page.reload()
            expect(page.get_by_role("heading", name="Draw a digit")).to_be_visible()
            assert owner_cookie() == [token]

            for path, heading, title in (("train", "Train", "Train"), ("compare", "Compare runs", "Compare")):
                page.goto(url + path)
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
                expect(page).to_have_title(f"{title} · mnistviz")
                expect(sidebar.get_by_test_id("stPageLink-NavLink")).to_have_count(len(SIDEBAR))

            sidebar.get_by_test_id("stPageLink-NavLink").filter(has_text="Home").click()
            expect(
                page.get_by_role("heading", name="When does a network still recognise a moved digit?")
            ).to_be_visible()
            expect(page).to_have_title("Home · mnistviz")
        finally:
            page.close()
