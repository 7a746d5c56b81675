"""The teacher link in a real browser: never locked out by a class guessing, kept across a reload until Lock; the
teacher brings runs trained at home into the class's server."""

import time

import pytest

from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import bundle, teacher_link
from mnistviz.runs.store import RunStore
from tests.conftest import save_fake_run
from tests.server import serve

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PASSCODE = "owl-42-tree-lamp"
GUESSERS = 25


def wait_for_cookie(context, name: str, seconds: float = 10.0) -> None:
    """The page sets its cookies by script just after it draws: wait until the browser holds this one."""
    deadline = time.monotonic() + seconds
    while not any(cookie["name"] == name for cookie in context.cookies()):
        assert time.monotonic() < deadline, f"no {name} cookie"
        time.sleep(0.1)


def home_bundle(tmp_path):
    """Two finished runs with models, exported from another runs folder: a teacher's runs trained at home."""
    home = RunStore(tmp_path / "home")
    ids = []
    for arch in ("mlp", "cnn"):
        ids.append(save_fake_run(home, RunSpec(arch, "centered"), 0.9, 0.9))
        home.save_model(ids[-1], build_model(arch, 28))
    bundle.export_runs(home, ids, tmp_path / "lesson.zip")
    return tmp_path / "lesson.zip"


def test_after_25_wrong_guesses_the_link_unlocks_at_once_and_a_reload_keeps_it_until_lock(browser, tmp_path):
    runs = tmp_path / "runs"
    token = teacher_link.token(runs)
    lesson = home_bundle(tmp_path)
    with serve(runs, tmp_path / "streamlit.log", MNISTVIZ_TEACHER_PASSCODE=PASSCODE) as url:
        students = browser.new_context(viewport={"width": 1280, "height": 800})
        pages = [students.new_page() for _ in range(GUESSERS)]  # one session each, as a class of 25 would
        for page in pages:
            page.goto(url + "compare", wait_until="commit")  # a light page: the guess is the point
        for guess, page in enumerate(pages):
            field = page.get_by_test_id("stSidebar").get_by_label("Teacher passcode", exact=True)
            field.fill(f"wrong-{guess:02d}-guess", timeout=60_000)
            field.press("Enter")
        for page in pages:
            expect(page.get_by_test_id("stSidebar").get_by_test_id("stAlertContentError")).to_be_visible(timeout=60_000)
        students.close()

        teacher = browser.new_context(viewport={"width": 1024, "height": 768})
        page = teacher.new_page()
        try:
            page.goto(f"{url}?{teacher_link.QUERY}={token}")
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text("Teacher mode")).to_be_visible(timeout=10_000)
            expect(page).to_have_url(url)  # the token leaves the address bar at once
            wait_for_cookie(teacher, teacher_link.COOKIE)
            page.goto(url + "compare")  # a new session of the same browser: still the teacher
            expect(page.get_by_test_id("stSidebar").get_by_text("Teacher mode")).to_be_visible()
            page.get_by_text("Bring runs to another server").click()  # runs trained at home, brought to class
            page.locator("input[type=file]").set_input_files(str(lesson))
            page.get_by_role("button", name="Import its runs").click()
            done = page.get_by_test_id("stAlertContentSuccess").filter(has_text="Imported 2 run(s)")
            expect(done).to_be_visible(timeout=60_000)  # in the box, not only in a toast that fades
            expect(page.get_by_text("(imported)").first).to_be_visible()
            page.reload()
            expect(page.get_by_test_id("stSidebar").get_by_text("Teacher mode")).to_be_visible()
            (kept,) = [cookie for cookie in teacher.cookies() if cookie["name"] == teacher_link.COOKIE]
            page.get_by_test_id("stSidebar").get_by_role("button", name="Lock").click()
            expect(page.get_by_test_id("stSidebar").get_by_label("Teacher passcode", exact=True)).to_be_visible()
            page.reload()  # Lock took the browser's cookie back
            expect(page.get_by_test_id("stSidebar").get_by_label("Teacher passcode", exact=True)).to_be_visible()
            expect(page.get_by_test_id("stSidebar").get_by_text("Teacher mode")).to_have_count(0)
        finally:
            teacher.close()

        copied = browser.new_context(viewport={"width": 1024, "height": 768})  # the cookie, copied before Lock
        try:
            copied.add_cookies([{"name": kept["name"], "value": kept["value"], "url": url}])
            page = copied.new_page()
            page.goto(url)
            expect(page.get_by_test_id("stSidebar").get_by_label("Teacher passcode", exact=True)).to_be_visible()
            expect(page.get_by_test_id("stSidebar").get_by_text("Teacher mode")).to_have_count(0)
        finally:
            copied.close()
