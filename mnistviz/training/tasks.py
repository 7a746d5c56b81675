"""Background computations of the dashboard (shift maps, measures, the 2x2 matrix): one worker thread, one at a time."""

import threading
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
            try:
                task.result = task.function(task.report)
            except MnistvizError as error:
                task.error = str(error)
            except Exception as error:  # reported on the page; the worker must survive
                task.error = f"{type(error).__name__}: {error}"
            finally:
                task.progress = 1.0
                with self._lock:
                    task.done.set()
                    finished = [key for key, kept in self._tasks.items() if kept.done.is_set()]
                    for key in finished[: max(0, len(finished) - FINISHED_KEPT)]:
                        del self._tasks[key]  # the oldest: their results are cached on disk
