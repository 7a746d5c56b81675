"""Where a queued run trains: the one interface the job queue starts runs through, and its local implementation.

An executor starts a run's training process (worker.py) and hands back a `Training` that says when that
process has ended. Progress and stop requests travel through the run's folder, so the queue treats
every executor alike: `LocalProcesses` here, which forks each run from a warm process that has
TensorFlow imported already (launcher.py), and `RayTasks` (ray_executor.py) on a cluster.
"""

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Protocol

from mnistviz.runs.store import process_alive, process_start

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent  # where `mnistviz` is imported from


class Training(Protocol):
    """One run's training process, as its executor sees it."""

    def exit_code(self) -> int | None:
        """None while it trains; 0 once it ended on its own (finished, stopped or failed), else how it died."""
        ...

    def kill(self) -> None:
        """End it at once (the dashboard is shutting down); the run keeps its last saved epoch."""
        ...


class Executor(Protocol):
    """Starts training processes, `slots` at a time at most."""

    name: str  # recorded with each run: "local" or "ray"
    slots: int

    def start(self, runs: Path, run_id: str) -> Training:
        """Start training queued run `run_id` of the runs folder `runs`."""
        ...


KILL_SECONDS = 10  # how long kill() waits for a killed process to be reported gone


class ChildProcess:
    """A run training in a process forked for it by the warm process; it has no pid until the fork is done."""

    def __init__(self, warm: "WarmProcess"):
        self.warm = warm
        self.pid: int | None = None
        self.start: str | None = None
        self.killed = False

    def forked(self, pid: int) -> None:
        self.pid, self.start = pid, process_start(pid)
        if self.killed:
            self._signal()

    def _signal(self) -> None:
        if self.pid is not None and process_alive(self.pid, self.start):
            os.kill(self.pid, signal.SIGKILL)

    def exit_code(self) -> int | None:
        if self.pid is None:  # still waiting for the warm process to fork it, unless that process ended
            return 1 if self.warm.gone.is_set() else None
        if self.pid in self.warm.ended:
            return self.warm.ended[self.pid]
        if self.warm.gone.is_set() and not process_alive(self.pid, self.start):
            return self.warm.ended.get(self.pid, 1)  # it ended after the warm process, which cannot say how
        return None

    def kill(self) -> None:
        """Kill it now, or as soon as it is forked; waits a few seconds for it to be gone."""
        self.killed = True
        self._signal()
        deadline = time.monotonic() + KILL_SECONDS
        while self.pid is not None and self.exit_code() is None and time.monotonic() < deadline:
            time.sleep(0.05)


class WarmProcess:
    """One running `launcher.py`: this server's warm process, the runs it forks, and how each ended."""

    def __init__(self):
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), environment.get("PYTHONPATH")]))
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mnistviz.training.launcher"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            start_new_session=True,  # Ctrl-C on the server does not reach it: it ends when the server goes
        )
        self.waiting: collections.deque[ChildProcess] = collections.deque()  # asked for, not yet forked, in order
        self.ended: dict[int, int] = {}  # pid -> exit code
        self.gone = threading.Event()  # it ended: what it had not reported is judged from /proc
        threading.Thread(target=self._listen, name="mnistviz-warm-process", daemon=True).start()

    def _listen(self) -> None:
        for line in self.process.stdout:
            message = _message(line)
            if "started" in message:
                self.waiting.popleft().forked(message["started"])
            elif "ended" in message:
                self.ended[message["ended"]] = message["code"]
        self.process.wait()
        self.gone.set()

    def fork(self, request: dict) -> ChildProcess:
        """Ask for a training process for `request`; it starts once TensorFlow has loaded here (the first run)."""
        child = ChildProcess(self)
        self.waiting.append(child)
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        return child


def _message(line: bytes) -> dict:
    """A line of the warm process's answers; anything else it printed (a library's notice) is no message."""
    try:
        message = json.loads(line)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


_WARM: list[WarmProcess] = []  # this server's, started by its first run and again if it ended
_WARM_LOCK = threading.Lock()


class LocalProcesses:
    """Each run trains in a process of its own on this machine (MNISTVIZ_JOBS at a time), its output in worker.log.

    Its processes are forked by one warm process of this server, started for the first run (which waits
    for it to import TensorFlow, as a fresh process would) and kept for the next ones.
    """

    name = "local"

    def __init__(self, slots: int = 1):
        self.slots = slots

    def start(self, runs: Path, run_id: str) -> ChildProcess:
        server = os.getpid()
        request = {
            "runs": str(runs.resolve()),
            "run_id": run_id,
            "environment": dict(os.environ),
            "log": str(runs.resolve() / run_id / "worker.log"),
            "server": [server, process_start(server)],
        }
        with _WARM_LOCK:
            try:
                return self._warm().fork(request)
            except BrokenPipeError:  # it ended just now: the next one starts the run
                _WARM.clear()
                return self._warm().fork(request)

    @staticmethod
    def _warm() -> WarmProcess:
        """This server's warm process, started anew if there is none or it ended; the caller holds the lock."""
        if not _WARM or _WARM[0].process.poll() is not None:
            _WARM[:] = [WarmProcess()]
        return _WARM[0]
