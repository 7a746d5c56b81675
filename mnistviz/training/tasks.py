"""Background computations of the dashboard (shift maps, measures, the 2x2 matrix): one worker thread, one at a time."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mnistviz.errors import MnistvizError

FINISHED_KEPT = 32  # finished tasks remembered per process; older results are cached on disk


@dataclass
class Task:
    """A background computation (a shift map, say): its progress 0..1, and its result or error."""

    key: tuple
    function: Callable[[Callable[[float], None]], Any]
    progress: float = 0.0
    result: Any = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)
    started: float | None = None  # time.monotonic() when the worker took it up
    ended: float | None = None

    def report(self, fraction: float) -> None:
        self.progress = fraction


class TaskRunner:
    """Runs background tasks (shift maps, the 2x2 matrix) one at a time in a worker thread; a key is never computed twice at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tasks: dict[tuple, Task] = {}
        self._pending: list[Task] = []
        self._worker: threading.Thread | None = None

    def submit(self, key: tuple, function: Callable[[Callable[[float], None]], Any]) -> Task:
        """Queue `function(report)` unless a task with this key is waiting or running; return that task."""
        with self._lock:
            task = self._tasks.get(key)
            if task is not None and not task.done.is_set():
                return task
            task = Task(key, function)
            self._tasks[key] = task
            self._pending.append(task)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="tasks", daemon=True)
                self._worker.start()
            return task

    def get(self, key: tuple) -> Task | None:
        with self._lock:
            return self._tasks.get(key)

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._worker = None
                    return
                task = self._pending.pop(0)
            task.started = time.monotonic()
            try:
                task.result = task.function(task.report)
            except MnistvizError as error:
                task.error = str(error)
            except Exception as error:  # reported on the page; the worker must survive
                task.error = f"{type(error).__name__}: {error}"
            finally:
                task.ended = time.monotonic()
                task.progress = 1.0
                with self._lock:
                    task.done.set()
                    finished = [key for key, kept in self._tasks.items() if kept.done.is_set()]
                    for key in finished[: max(0, len(finished) - FINISHED_KEPT)]:
                        del self._tasks[key]  # the oldest: their results are cached on disk


def seconds_left(tasks: list[Task], now: float | None = None) -> float | None:
    """How long these tasks will still take, from the speed measured on them so far; None until it can say.

    A task done without error took its own time; the one running will take its elapsed time over its progress;
    each one waiting, what those took on average.
    """
    now = time.monotonic() if now is None else now
    took = [
        task.ended - task.started
        for task in tasks
        if task.done.is_set() and not task.error and task.started and task.ended
    ]
    running = [task for task in tasks if not task.done.is_set() and task.started is not None]
    left = 0.0
    for task in running:
        if task.progress < 0.05:  # too early to say its pace
            return None
        elapsed = now - task.started
        took.append(elapsed / task.progress)
        left += elapsed * (1 - task.progress) / task.progress
    waiting = [task for task in tasks if not task.done.is_set() and task.started is None]
    if waiting and not took:
        return None
    return left + (len(waiting) * sum(took) / len(took) if waiting else 0.0)
