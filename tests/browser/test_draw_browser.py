"""The Draw page in headless Chromium: a real server, real mouse strokes on the canvas, every model answers."""

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnistviz import data
from mnistviz.jobs import JobManager
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore
from tests.conftest import synthetic_mnist

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
sync_playwright, expect = playwright_api.sync_playwright, playwright_api.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
MODELS = ("MLP centered", "CNN offset")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train_two_runs(root: Path) -> None:
    """An MLP on centered and a CNN on offset synthetic digits, one short epoch each."""
    variants = {name: data.make_variant(synthetic_mnist(), name) for name in data.VARIANTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        manager = JobManager(RunStore(root))
        jobs = [
            manager.submit(RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600)),
            manager.submit(RunSpec("cnn", "offset", epochs=1, batch_size=50, train_size=600)),
        ]
        for job in jobs:
            assert manager.wait(job.run_id, timeout=300)
            assert manager.store.load(job.run_id).status == "finished"


def wait_until_up(server: subprocess.Popen, url: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not answer within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The dashboard served from a private runs folder holding two trained runs; stopped afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    folder = tmp_path_factory.mktemp("draw-browser")
    runs = folder / "runs"
    train_two_runs(runs)
    port = free_port()
    log = folder / "streamlit.log"
    env = {**os.environ, "MNISTVIZ_RUNS": str(runs), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with open(log, "w") as log_file:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(server, url, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def page(app_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(app_url)
            page.get_by_role("link", name="Draw").click()
            yield page
        finally:
            browser.close()


def stroke(page, box: dict, points: list[tuple[int, int]]) -> None:
    """One pen stroke through `points`, in canvas pixels."""
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=10)
    page.mouse.up()


def test_a_drawn_digit_is_answered_by_every_model(page, tmp_path):
    canvas = page.locator('[data-testid="stBidiComponentIsolated"] canvas.upper-canvas')
    canvas.wait_for(timeout=60_000)
    page.get_by_text("Draw a digit in the black square").wait_for(timeout=60_000)
    box = canvas.bounding_box()
    assert (box["width"], box["height"]) == (280, 280)

    shown = Image.open(io.BytesIO(canvas.screenshot())).convert("L")
    assert max(shown.crop((130, 68, 150, 73)).getdata()) > 100  # the window's dashed top edge is visible

    stroke(page, box, [(95, 90), (185, 90), (130, 200)])  # a 7 inside the window
    for label in MODELS:
        page.get_by_text(f"{label} predicts").wait_for(timeout=60_000)
    # the page may still be rerunning for the last stroke update: wait for it to settle
    expect(page.get_by_text(" predicts ")).to_have_count(len(MODELS), timeout=30_000)
    expect(page.locator('[data-testid="stImage"] img')).to_have_count(len(MODELS), timeout=30_000)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_be_hidden(timeout=30_000)
    field_view = page.locator('[data-testid="stImage"]').filter(has_text="its input, 56x56").locator("img")
    seen = np.asarray(Image.open(io.BytesIO(field_view.screenshot())).convert("L"))  # 56x56 shown 2x
    assert seen[34:40, 40:70].max() > 200  # the 7's top bar, field rows 17-19, reached the offset model
    assert seen[24:31, 20:100].max() < 60  # the window's edge (field row 14) did not: it is background, not ink

    screenshot = tmp_path / "draw-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot: {screenshot}")
