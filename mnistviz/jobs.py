"""The process-wide job queue: the one place that owns TensorFlow worker threads.

Every browser session and the CLI submit runs here. At most `concurrency` runs train at once;
the rest wait in order, and everyone can see the queue.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

from mnistviz import config
from mnistviz.progress import ProgressSnapshot, RunProgress
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore


@dataclass
class Job:
    """A submitted run: its spec, its live progress, its stop switch, and who started it."""

    run_id: str
    spec: RunSpec
    progress: RunProgress
    owner: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def snapshot(self) -> ProgressSnapshot:
        return self.progress.snapshot()


class JobManager:
    """Queues runs and trains them in worker threads, `concurrency` at a time."""

    def __init__(self, store: RunStore, concurrency: int = 1):
        self.store = store
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._running: list[Job] = []
        self._all: dict[str, Job] = {}

    def submit(self, spec: RunSpec, owner: str | None = None) -> Job:
        """Save a new queued run and start it as soon as a worker is free."""
        run_id = self.store.create(spec)
        job = Job(run_id=run_id, spec=spec, progress=RunProgress(run_id, spec.epochs), owner=owner)
        with self._lock:
            self._all[run_id] = job
            self._queue.append(job)
            self._start_waiting()
        return job

    def _start_waiting(self) -> None:
        """Start queued jobs while workers are free; the caller holds the lock."""
        while self._queue and len(self._running) < self.concurrency:
            job = self._queue.pop(0)
            self._running.append(job)
            thread = threading.Thread(target=self._work, args=(job,), name=f"train-{job.run_id}", daemon=True)
            thread.start()

    def _work(self, job: Job) -> None:
        from mnistviz import training  # TensorFlow loads only when something trains

        try:
            training.execute(job.spec, job.run_id, self.store, job.progress, job.stop_event)
        finally:
            with self._lock:
                self._running.remove(job)
                self._start_waiting()
            job.done.set()

    def stop(self, run_id: str) -> bool:
        """Stop a run at its next batch, or drop it from the queue; False if it is not active."""
        with self._lock:
            job = self._all.get(run_id)
            if job is None or job.done.is_set():
                return False
            job.stop_event.set()
            if job in self._queue:
                self._queue.remove(job)
                queued = True
            else:
                queued = False
        if queued:
            self.store.write_status(run_id, "stopped")
            job.progress.finish("stopped")
            job.done.set()
        return True

    def get(self, run_id: str) -> Job | None:
        with self._lock:
            return self._all.get(run_id)

    def active(self) -> list[Job]:
        """Running jobs, then queued ones in the order they will start."""
        with self._lock:
            return list(self._running) + list(self._queue)

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next queued run to start; None when it is not waiting."""
        with self._lock:
            for position, job in enumerate(self._queue, start=1):
                if job.run_id == run_id:
                    return position
        return None

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        job = self.get(run_id)
        return job.done.wait(timeout) if job else True


_managers: dict[Path, JobManager] = {}
_managers_lock = threading.Lock()


def get_manager(runs_dir: Path | str | None = None) -> JobManager:
    """The one job manager of this process for a runs directory."""
    root = Path(runs_dir) if runs_dir is not None else config.runs_dir()
    key = root.expanduser().resolve()
    with _managers_lock:
        if key not in _managers:
            _managers[key] = JobManager(RunStore(root), concurrency=config.max_concurrent_jobs())
        return _managers[key]
