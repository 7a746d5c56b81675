"""Where a queued run trains: the one interface the job queue starts runs through, and its local implementation.

An executor starts `worker.py` for a run and hands back a `Training` that says when that process has
ended. Progress and stop requests travel through the run's folder, so the queue treats every
executor alike: `LocalProcesses` here, `RayTasks` (ray_executor.py) on a cluster.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

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


class ChildProcess:
    """A run training in a child process of this one."""

    def __init__(self, process: subprocess.Popen):
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


class LocalProcesses:
    """Each run trains in a child process on this machine (MNISTVIZ_JOBS at a time), its output in worker.log."""

    name = "local"

    def __init__(self, slots: int = 1):
        self.slots = slots

    def start(self, runs: Path, run_id: str) -> ChildProcess:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), environment.get("PYTHONPATH")]))
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        command = [sys.executable, "-m", "mnistviz.training.worker", str(runs.resolve()), run_id, str(os.getpid())]
        with open(runs / run_id / "worker.log", "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,  # Ctrl-C on the server does not reach it: it stops when the server goes
            )
        return ChildProcess(process)
