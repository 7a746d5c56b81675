"""The process-wide job queue: the one place that owns TensorFlow worker threads.

Every browser session and the CLI submit runs here. At most `concurrency` runs train at once;
the rest wait in order, and everyone can see the queue.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.progress import ProgressSnapshot, RunProgress
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore

FINISHED_KEPT = 32  # finished jobs and tasks remembered per process; older ones are read from disk
QUEUE_LIMIT = 100  # runs waiting at once from students: a student who gets new tokens still cannot flood it


@dataclass
class Job:
    """A submitted run: its spec, its live progress, its stop switch, and who asked for it.

    `owner` started it; `joined` are the sessions that asked for the very same run later and watch it
    too (it trains once for all of them); `stop_asked` are those of them who have pressed Stop.
    """

    run_id: str
    spec: RunSpec
    progress: RunProgress
    owner: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    joined: set[str] = field(default_factory=set)
    stop_asked: set[str] = field(default_factory=set)

    @property
    def owners(self) -> frozenset[str]:
        """Every session that asked for this run.

        A run started from the command line has none, and joining it does not make it the joiner's:
        only the teacher stops it.
        """
        return frozenset(self.joined | {self.owner}) if self.owner is not None else frozenset()

    def snapshot(self) -> ProgressSnapshot:
        return self.progress.snapshot()


def finished_by_spec(store: RunStore) -> dict[RunSpec, Job]:
    """The newest finished run of each spec on disk, as a done job that a request for the same spec joins."""
    out: dict[RunSpec, Job] = {}
    for record in store.list():  # newest first
        if record.status == "finished" and record.model_is_current and record.spec not in out:
            progress = RunProgress(record.run_id, record.spec.epochs)
            progress.finish("finished")
            job = Job(record.run_id, record.spec, progress, record.owner)
            job.done.set()
            out[record.spec] = job
    return out


class JobManager:
    """Queues runs and trains them in worker threads, `concurrency` at a time."""

    def __init__(self, store: RunStore, concurrency: int = 1):
        self.store = store
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._running: list[Job] = []
        self._all: dict[str, Job] = {}
        self._requeued = False
        self.tasks = TaskRunner()
        self.problem = ""  # in-process training has nothing to lose touch with (see cluster.py)

    def submit(self, spec: RunSpec, owner: str | None = None, limit: int | None = None, reuse: bool = False) -> Job:
        """Save a new queued run and start it as soon as a worker is free (see `submit_all`)."""
        return self.submit_all([spec], owner, limit, reuse)[0]

    def submit_all(
        self, specs: list[RunSpec], owner: str | None = None, limit: int | None = None, reuse: bool = False
    ) -> list[Job]:
        """Queue runs in order, all or none: refused when `owner` would then have more than `limit` active runs.

        With `reuse`, a spec equal in every field (seed included) to a queued, running or finished run
        joins that run instead of training again: thirty students pressing the same button train once.
        Only the runs a request would newly train count against `limit`. One student queued 500 runs in
        28 s before there was a limit; the teacher passes no limit.
        """
        finished = finished_by_spec(self.store) if reuse else {}
        with self._lock:
            new: list[RunSpec] = []  # the runs this request trains
            plan: list[Job | int] = []  # for each spec: the run it joins, or its place in `new`
            for spec in specs:
                existing = (self._active_with(spec) or finished.get(spec)) if reuse else None
                if existing is not None:
                    plan.append(existing)
                elif reuse and spec in new:
                    plan.append(new.index(spec))
                else:
                    plan.append(len(new))
                    new.append(spec)
            if limit is not None:
                mine = sum(1 for job in self._running + self._queue if job.owner == owner)
                if mine + len(new) > limit:
                    raise MnistvizError(
                        f"you already have {mine} run(s) training or waiting, and each student may have {limit} "
                        "at a time: wait for one to finish, or stop one, then try again"
                    )
                if len(self._queue) + len(new) > QUEUE_LIMIT:
                    raise MnistvizError(
                        f"the class's queue is full ({len(self._queue)} runs waiting): try again when it has moved on"
                    )
            created = []
            try:
                for spec in new:
                    created.append(self.store.create(spec, owner))
            except MnistvizError:
                for run_id in created:  # all or none: a full disk half way leaves nothing queued
                    self.store.delete(run_id)
                raise
            started = [
                Job(run_id, spec, RunProgress(run_id, spec.epochs), owner)
                for spec, run_id in zip(new, created, strict=True)
            ]
            for job in started:
                self._all[job.run_id] = job
                self._queue.append(job)
            jobs = [started[item] if isinstance(item, int) else item for item in plan]
            for job in jobs:
                if owner is not None and job.owner != owner and not job.done.is_set():
                    job.joined.add(owner)
            self._start_waiting()
        return jobs

    def _active_with(self, spec: RunSpec) -> Job | None:
        """The queued or running job training exactly `spec`, if any. The caller holds the lock."""
        return next((job for job in self._running + self._queue if job.spec == spec), None)

    def requeue_abandoned(self) -> list[str]:
        """Queue again, in the order they were queued, the runs a stopped server left waiting; once per manager.

        That includes runs left waiting in a Ray cluster's queue: a teacher who gave up on the cluster
        (MNISTVIZ_RAY_ADDRESS unset) gets them trained here. Only the dashboard server calls this: a
        command-line run must not pick up a class's queue.
        """
        with self._lock:
            if self._requeued:
                return []
            self._requeued = True
            abandoned = sorted(
                (
                    record
                    for record in self.store.list()
                    if record.spec is not None
                    and (record.abandoned_queue or (record.status == "queued" and record.executor == "ray"))
                ),
                key=lambda record: (record.timing.get("created") or 0, record.run_id),
            )
            for record in abandoned:  # this process waits on it now
                self.store.write_status(record.run_id, "queued", owner=record.owner, executor="local")
                job = Job(record.run_id, record.spec, RunProgress(record.run_id, record.spec.epochs), record.owner)
                self._all[record.run_id] = job
                self._queue.append(job)
            self._start_waiting()
        return [record.run_id for record in abandoned]

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
                self._forget_finished()

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
            self._drop(job)
        return True

    def ask_to_stop(self, run_id: str, session: str) -> int:
        """Count `session`'s Stop on a run it asked for; stop it once all who asked did. Those still wanting it.

        A run joined by several students is theirs together: one of them pressing Stop must not take it
        from the others.
        """
        with self._lock:
            job = self._all.get(run_id)
            if job is None or job.done.is_set():
                return 0
            job.stop_asked.add(session)
            still = len(job.owners - job.stop_asked)
        if not still:
            self.stop(run_id)
        return still

    def clear_queue(self) -> list[str]:
        """Take every run still waiting out of the queue and delete it (it never started: nothing is lost)."""
        with self._lock:
            waiting, self._queue = self._queue, []
            for job in waiting:
                job.stop_event.set()
                del self._all[job.run_id]
        for job in waiting:
            try:
                self.store.delete(job.run_id)
            finally:
                job.progress.finish("stopped")
                job.done.set()
        return [job.run_id for job in waiting]

    def _drop(self, job: Job) -> None:
        """Mark a run taken out of the queue as stopped; it is done even if its status cannot be saved."""
        try:
            self.store.write_status(job.run_id, "stopped")
        finally:
            job.progress.finish("stopped")
            with self._lock:
                job.done.set()
                self._forget_finished()

    def _forget_finished(self) -> None:
        """Keep only the newest FINISHED_KEPT finished jobs: a finished run's record is on disk. Caller holds the lock."""
        finished = [run_id for run_id, job in self._all.items() if job.done.is_set()]
        for run_id in finished[: max(0, len(finished) - FINISHED_KEPT)]:
            del self._all[run_id]

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


_managers: dict[Path, JobManager] = {}
_managers_lock = threading.Lock()
_threads_lock = threading.Lock()
_threads_bound: int | None = None


def bound_tensorflow_threads() -> int:
    """Give TensorFlow at most MNISTVIZ_TF_THREADS threads per operation, once per process; returns the bound.

    TensorFlow accepts this only before it first runs, so the server calls it at start-up; the CLI
    and the benchmarks do not, and train with every core. Inter-op threads are left alone: with one, a prediction waits behind a
    whole training step. 0 means no bound; -1 is returned when TensorFlow was already running.
    """
    global _threads_bound
    with _threads_lock:
        if _threads_bound is None:
            threads = config.tf_threads()
            if threads:
                import tensorflow as tf

                try:
                    tf.config.threading.set_intra_op_parallelism_threads(threads)
                except RuntimeError:  # TensorFlow already ran in this process: it keeps its threads
                    threads = -1
            _threads_bound = threads
        return _threads_bound


def get_manager(runs_dir: Path | str | None = None) -> JobManager:
    """The one job manager of this process for a runs directory: in-process, or a Ray cluster's (cluster.py)."""
    root = Path(runs_dir) if runs_dir is not None else config.runs_dir()
    key = root.expanduser().resolve()
    with _managers_lock:
        if key not in _managers:
            store = RunStore(root)
            store.sweep_temporary()  # what a crash left mid-write, on the process' first look at the folder
            address = config.ray_address()
            if address is None:
                _managers[key] = JobManager(store, concurrency=config.max_concurrent_jobs())
            else:  # Ray is imported only when a cluster is asked for
                from mnistviz.cluster import ClusterJobManager

                _managers[key] = ClusterJobManager(store, address, config.ray_cpus_per_job())
        return _managers[key]
