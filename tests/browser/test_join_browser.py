"""The Join panel on the projector: the server's address on the network, large, and a QR code that holds it.

The network server of these tests listens on 0.0.0.0 (these tests only); the browser reaches it through 127.0.0.1
all the same. The screenshots go to MNISTVIZ_SCREENSHOTS when it is set, else to the test's own folder.
"""

import contextlib
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mnistviz.runs import teacher_link
from mnistviz.show import join
from tests import server

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
expect = type(playwright_api.expect)()
expect.set_options(timeout=90_000)  # the first page of a fresh server imports TensorFlow

SCREENS = {
    name: {"width": w, "height": h}
    for name, w, h in [("projector", 1024, 768), ("laptop", 1280, 800), ("phone", 390, 844)]
}


@contextlib.contextmanager
def serve_on(address: str, runs: Path, log: Path):
    """`tests.server.serve`, its server listening on `address` instead of 127.0.0.1.

    The browser's address stays 127.0.0.1: on a wildcard address Streamlit would otherwise ask checkip.amazonaws.com
    for an "External URL" to print.
    """
    popen = subprocess.Popen

    def listening_on_address(command, **options):
        at = command.index("--server.address") + 1
        return popen([*command[:at], address, *command[at + 1 :], "--browser.serverAddress", "127.0.0.1"], **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server.subprocess, "Popen", listening_on_address)
        with server.serve(runs, log) as url:
            patch.undo()
            yield url


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A dashboard listening on every interface, and its runs folder."""
    folder = tmp_path_factory.mktemp("network")
    with serve_on("0.0.0.0", folder / "runs", folder / "streamlit.log") as url:
        yield url, folder / "runs"


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("MNISTVIZ_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits_on_screen(page, element) -> None:
    """`element` is whole in the window, and no text in it runs out of its box."""
    box = element.bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert box and box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= width + 1 and box["y"] + box["height"] <= height + 1, (box, width, height)
    assert element.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


def shows_the_panel_whole(page, phone: bool) -> None:
    """The QR code and the address are whole in the window, large; the address is one line (on a phone, two)."""
    code, address = page.get_by_role("dialog").locator(".join-qr"), page.get_by_role("dialog").locator(".join-url")
    for part in (code, address):
        fits_on_screen(page, part)
    assert code.bounding_box()["width"] >= (240 if phone else 300)  # scanned from the back of the room
    assert address.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= (20 if phone else 36)
    lines = address.evaluate("e => e.clientHeight / parseFloat(getComputedStyle(e).lineHeight)")
    assert round(lines) <= (2 if phone else 1), lines


def test_on_every_interface_the_panel_shows_a_network_address_and_a_qr_code_of_it(browser, network):
    url, _ = network
    expected = join.network_addresses(join.machine_addresses())
    if not expected:
        pytest.skip("this computer has no network address")
    address = join.server_url(expected[0], urlsplit(url).port)
    assert not address.startswith("http://127.")
    page = browser.new_page(viewport=SCREENS["laptop"])
    try:
        page.goto(url + "?join=1")
        panel = page.get_by_role("dialog")
        expect(panel.locator(".join-url")).to_have_text(address)
        code = panel.get_by_role("img", name=address)
        expect(code).to_have_attribute("alt", f"QR code of {address}")
        expect(code).to_have_attribute("src", join.qr_code(address))
        assert code.evaluate("img => img.complete && img.naturalWidth > 0")  # the browser drew it
    finally:
        page.close()


def test_the_panel_fits_a_projector_a_laptop_and_a_phone_and_presentation_mode(browser, network, shots):
    url, _ = network
    page = browser.new_page(viewport=SCREENS["projector"])
    try:
        for query in ("join=1", "present=1&join=1"):
            page.goto(f"{url}?{query}")
            expect(page.get_by_role("dialog").locator(".join-qr")).to_be_visible()
            for name, screen in SCREENS.items():
                page.set_viewport_size(screen)
                page.wait_for_timeout(300)  # the dialog's own resize
                shows_the_panel_whole(page, name == "phone")
                page.screenshot(path=str(shots / f"join-{name}{'-presentation' if 'present' in query else ''}.png"))
            page.set_viewport_size(SCREENS["projector"])
    finally:
        page.close()


def test_the_sidebar_button_opens_the_panel_the_address_keeps_it_and_closing_takes_it_off(browser, network):
    url, _ = network
    page = browser.new_page(viewport=SCREENS["laptop"])
    try:
        page.goto(url + "compare")
        expect(page.get_by_role("heading", name="Compare runs", exact=True)).to_be_visible()
        page.get_by_test_id("stSidebar").get_by_role("button", name="Show how to join").click()
        panel = page.get_by_role("dialog")
        expect(panel.get_by_text("Join from your phone or laptop")).to_be_visible()
        expect(page).to_have_url(f"{url}compare?join=1")  # a page's own rerun shows it again
        page.keyboard.press("Escape")
        expect(panel).to_have_count(0)
        expect(page).to_have_url(f"{url}compare")  # closed for good: a reload does not open it again
    finally:
        page.close()


def test_the_panel_never_shows_the_teacher_link(browser, network):
    url, runs = network
    token = teacher_link.token(runs)
    page = browser.new_page(viewport=SCREENS["laptop"])
    try:
        page.goto(f"{url}?{teacher_link.QUERY}={token}&join=1")
        expect(page.get_by_test_id("stSidebar").get_by_text("Teacher mode")).to_be_visible()
        panel = page.get_by_role("dialog")
        expect(panel.locator(".join-url")).to_be_visible()
        assert token not in panel.inner_html() and teacher_link.QUERY + "=" not in panel.inner_html()
    finally:
        page.close()


def test_on_loopback_the_panel_says_students_cannot_reach_it_and_gives_the_command_that_fixes_it(
    browser, tmp_path, shots
):
    with server.serve(tmp_path / "runs", tmp_path / "streamlit.log") as url:
        port = urlsplit(url).port
        page = browser.new_page(viewport=SCREENS["projector"])
        try:
            page.goto(url + "?join=1")
            panel = page.get_by_role("dialog")
            expect(panel.get_by_text("Students cannot reach this server")).to_be_visible()
            expect(panel.get_by_test_id("stCode")).to_contain_text(f"--server.address 0.0.0.0 --server.port {port}")
            expect(panel.get_by_text(f"may block port {port}")).to_be_visible()
            expect(panel.get_by_role("img")).to_have_count(0)  # no QR code of an address nobody else can open
            page.screenshot(path=str(shots / "join-loopback-projector.png"))
        finally:
            page.close()
