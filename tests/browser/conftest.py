"""What every browser test shares: tiny trained runs, a served dashboard, and one headless Chromium."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnistviz import data
from mnistviz.errors import MnistvizError
from mnistviz.spec import RunSpec
from tests.conftest import synthetic_mnist

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train_runs(root: Path, specs: list[RunSpec]) -> list[str]:
    """Train `specs` one after the other on synthetic digits into the runs folder `root`; their run ids."""
    from mnistviz.jobs import JobManager  # TensorFlow loads only when a test trains
    from mnistviz.store import RunStore

    variants = {name: data.make_variant(synthetic_mnist(), name) for name in data.VARIANTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        manager = JobManager(RunStore(root))
        jobs = [manager.submit(spec) for spec in specs]
        for job in jobs:
            assert manager.wait(job.run_id, timeout=300)
            assert manager.store.load(job.run_id).status == "finished"
    return [job.run_id for job in jobs]


def require_mnist() -> None:
    """Skip unless real MNIST loads without a download (the served pages train and test on it)."""
    try:
        data.load_mnist()
    except MnistvizError as error:
        pytest.skip(f"needs MNIST (set MNISTVIZ_DATA): {error}")


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


@contextlib.contextmanager
def serve(runs_dir: Path, log: Path | None = None, **env: str) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port over `runs_dir`; yields its URL, stops it on exit.

    `env` adds environment variables (e.g. MNISTVIZ_JOBS="2"); the server's output goes to `log`.
    """
    port = free_port()
    log = log or runs_dir.parent / f"streamlit-{port}.log"
    environment = {**os.environ, "MNISTVIZ_RUNS": str(runs_dir), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    if shutil.which("setpriv"):  # a test run killed before its finalizers must not leave its server running
        command = ["setpriv", "--pdeathsig", "TERM", "--", *command]
    with open(log, "w") as log_file:
        server = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
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


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test opens its own pages (or contexts) in it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
