"""A dashboard served on loopback, and the Chromium settings: shared by the browser tests and bench/load.py."""

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

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
CHROMIUM_ARGS += ["--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(runs: Path, log: Path, **env: str) -> Iterator[str]:
    """`streamlit run app.py` over `runs` on a free loopback port; yields its URL and stops the server on exit.

    `env` adds environment variables (MNISTVIZ_DATA, MNISTVIZ_JOBS, ...); the server's output goes to `log`.
    """
    port = _free_port()
    environment = {**os.environ, "MNISTVIZ_RUNS": str(runs), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    if shutil.which("setpriv"):  # a run killed before its clean-up must not leave its server running
        command = ["setpriv", "--pdeathsig", "TERM", "--", *command]
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
