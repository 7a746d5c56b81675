"""A Ray cluster on the loopback address, for the tests and the benchmarks: started and stopped by its own handle."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}  # else Ray binds the network


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_cluster(log: Path, cpus: int = 2) -> Iterator[str]:
    """`ray start --head` on 127.0.0.1 with `cpus` cores; yields its address, and stops it on exit.

    The head runs in its own process group, which is ended as a whole (its workers leave with it);
    the caller sets LOOPBACK in its own environment too before it connects.
    """
    port = _free_port()
    command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block", "--port", str(port)]
    command += ["--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus), "--include-dashboard=false"]
    command += ["--disable-usage-stats"]
    environment = {**os.environ, **LOOPBACK}
    with open(log, "w") as out:
        head = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start:\n{log.read_text()}")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        _end_group(head)


def _end_group(head: subprocess.Popen) -> None:
    """End the head's process group: politely, then for good."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, sig)
        try:
            head.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.monotonic() + grace
        while _group_alive(head.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _group_alive(head.pid):
            return


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
