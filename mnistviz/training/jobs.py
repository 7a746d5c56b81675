"""The dashboard's job queue: every browser session submits runs here, and everyone sees the queue.

It trains nothing itself. At most `executor.slots` runs train at once, each in a process of its own
started through the executor; the rest wait in order. A thread follows each training run's
progress.jsonl into a live `Job` for the pages, and notices when its process has ended, however it ended.
"""

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.progress import FLUSH_SECONDS, PROGRESS_FILE, ProgressFollower, ProgressSnapshot, RunProgress
from mnistviz.runs.store import ACTIVE, RunRecord, RunStore
from mnistviz.training import estimates
from mnistviz.training.executors import Executor, LocalProcesses, Training
from mnistviz.training.tasks import TaskRunner

logger = logging.getLogger(__name__)
FINISHED_KEPT = 32  # finished jobs remembered per process; older ones are read from disk
QUEUE_LIMIT = 100  # runs waiting at once, from anyone but the teacher: a single-user server's too; nobody floods it


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
    done: threading.Event = field(default_factory=threading.Event)
    joined: set[str] = field(default_factory=set)
    stop_asked: set[str] = field(default_factory=set)
    stopping: bool = False  # Stop was pressed: it ends at its next batch, or left the queue
    training: Training | None = None  # its process, once started
    follower: ProgressFollower | None = None
    address: str | None = None  # the client address that asked for it, kept in memory only
    joined_from: dict[str, str | None] = field(default_factory=dict)  # each joiner's address, if it takes the run over
    budget: float | None = None  # a student's run: the seconds it may take; twice that, and it is stopped
    started: float | None = None  # time.monotonic() when its process was started
    arrival: int = 0  # the order it was asked for in, which breaks ties in the fair queue

    @property
    def owners(self) -> frozenset[str]:
        """Every session that asked for this run.

        A run started from the command line has none, and joining it does not make it the joiner's:
        only the teacher stops it.
        """
        return frozenset(self.joined | {self.owner}) if self.owner is not None else frozenset()

    def snapshot(self) -> ProgressSnapshot:
        return self.progress.snapshot()


def finished_by_spec(records: list[RunRecord]) -> dict[RunSpec, Job]:
    """The newest finished run of each spec on disk, as a done job that a request for the same spec joins."""
    out: dict[RunSpec, Job] = {}
    for record in records:  # newest first, as `RunStore.list` gives them
        if record.status == "finished" and record.model_is_current and record.spec not in out:
            progress = RunProgress(record.run_id, record.spec.epochs)
            progress.finish("finished")
            job = Job(record.run_id, record.spec, progress, record.owner)
            job.done.set()
            out[record.spec] = job
    return out


class JobManager:
    """Queues runs and starts them through `executor`, as many at a time as it has slots."""

    def __init__(self, store: RunStore, executor: Executor | None = None):
        self.store = store
        self.executor = executor or LocalProcesses()
        self._lock = threading.Lock()
        self._queue: list[Job] = []
        self._running: list[Job] = []
        self._all: dict[str, Job] = {}
        self._requeued = False
        self._arrivals = itertools.count()
        self._watching = False
        self._exiting: list[Training] = []  # processes whose run has ended, until they have exited (and are reaped)
        self.tasks = TaskRunner()  # shift maps and measures: computed next to the pages
        self.problem = ""  # what the pages say while the executor cannot start runs
        self.delays: deque[float] = deque(maxlen=10_000)  # seconds from a batch in training to its arrival here

    @property
    def concurrency(self) -> int:
        return self.executor.slots

    def submit(self, spec: RunSpec, owner: str | None = None, limit: int | None = None, reuse: bool = False) -> Job:
        """Save a new queued run and start it as soon as a worker is free (see `submit_all`)."""
        return self.submit_all([spec], owner, limit, reuse)[0]

    def submit_all(
        self,
        specs: list[RunSpec],
        owner: str | None = None,
        limit: int | None = None,
        reuse: bool = False,
        queue_cap: int | None = None,
        address: str | None = None,
        address_limit: int | None = None,
        budget: float | None = None,
    ) -> list[Job]:
        """Queue runs in order, all or none: refused when `owner` would then have more than `limit` active runs,
        `address` more than `address_limit`, or the queue more than `queue_cap` waiting ones; and when a run
        is estimated to train for longer than `budget` seconds (a student's; the teacher passes none).

        With `reuse`, a spec equal in every field (seed included) to a queued, running or finished run
        joins that run instead of training again: thirty students pressing the same button train once.
        Only the runs a request would newly train count against `limit`. One student queued 500 runs in
        28 s before there was a limit; the teacher passes no limit.
        """
        records = self.store.list() if reuse or budget is not None else []
        finished = finished_by_spec(records) if reuse else {}
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
            if address_limit is not None:
                here = sum(1 for job in self._running + self._queue if job.address == address)
                if here + len(new) > address_limit:
                    raise MnistvizError(
                        f"this computer already has {here} run(s) training or waiting, and each computer may have "
                        f"{address_limit} at a time: wait for one to finish, or stop one, then try again"
                    )
            if budget is not None:
                for spec in new:
                    if why := estimates.over_budget(spec, records, budget):
                        raise MnistvizError(why)
            if queue_cap is not None and len(self._queue) + len(new) > queue_cap:
                raise MnistvizError(
                    f"the queue is full ({len(self._queue)} runs waiting, at most {queue_cap}): "
                    "try again when it has moved on"
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
                Job(run_id, spec, RunProgress(run_id, spec.epochs), owner, address=address, budget=budget)
                for spec, run_id in zip(new, created, strict=True)
            ]
            for job in started:
                self._enqueue(job)
            jobs = [started[item] if isinstance(item, int) else item for item in plan]
            for job in jobs:
                if owner is not None and job.owner != owner and not job.done.is_set():
                    job.joined.add(owner)
                    job.joined_from.setdefault(owner, address)
            self._start_waiting()
        return jobs

    def _active_with(self, spec: RunSpec) -> Job | None:
        """The queued or running job training exactly `spec`, if any. The caller holds the lock."""
        return next((job for job in self._running + self._queue if job.spec == spec), None)

    def requeue_abandoned(self) -> list[str]:
        """Queue again, in the order they were queued, the runs a stopped server left waiting; once per manager.

        Only the dashboard server calls this: a command-line run must not pick up a class's queue.
        """
        with self._lock:
            if self._requeued:
                return []
            self._requeued = True
            abandoned = sorted(
                (record for record in self.store.list() if record.spec is not None and record.abandoned_queue),
                key=lambda record: (record.timing.get("created") or 0, record.run_id),
            )
            for record in abandoned:  # this process waits on it now
                self.store.write_status(record.run_id, "queued", owner=record.owner, executor=self.executor.name)
                job = Job(record.run_id, record.spec, RunProgress(record.run_id, record.spec.epochs), record.owner)
                self._enqueue(job)
            self._start_waiting()
        return [record.run_id for record in abandoned]

    def _enqueue(self, job: Job) -> None:
        """Put a new job in the queue at its fair place; the caller holds the lock."""
        job.arrival = next(self._arrivals)
        self._all[job.run_id] = job
        self._queue.append(job)
        self._take_turns()

    def _take_turns(self) -> None:
        """Order the queue as a round robin: by how many runs of its owner, or of its computer, train or wait
        ahead of a run, then by when it was asked for. So a student's fourth run waits behind every
        classmate's first, second and third, and sessions without the owner cookie on one computer share
        that computer's turns. The caller holds the lock."""
        owners: dict[str | None, int] = {}
        addresses: dict[str | None, int] = {}

        def count(job: Job) -> None:
            owners[job.owner] = owners.get(job.owner, 0) + 1
            if job.address is not None:
                addresses[job.address] = addresses.get(job.address, 0) + 1

        for job in self._running:
            count(job)
        turns = {}
        for job in sorted(self._queue, key=lambda job: job.arrival):
            ahead = max(owners.get(job.owner, 0), addresses.get(job.address, 0) if job.address is not None else 0)
            turns[job.run_id] = (ahead, job.arrival)
            count(job)
        self._queue.sort(key=lambda job: turns[job.run_id])

    def _start_waiting(self) -> None:
        """Start queued jobs while the executor has slots, and follow them; the caller holds the lock."""
        while self._queue and len(self._running) < self.executor.slots:
            self._take_turns()  # a run that ended moved its owner's waiting runs up
            job = self._queue.pop(0)
            self._running.append(job)
            job.started = time.monotonic()
            job.follower = ProgressFollower(self.store.folder(job.run_id) / PROGRESS_FILE, job.progress, self.delays)
            job.progress.set_status("running")  # its process is starting: TensorFlow takes a few seconds to load
            try:
                job.training = self.executor.start(self.store.root, job.run_id)
            except Exception as error:  # no process could be started (Ray gone, no memory): this run fails
                self._running.remove(job)
                self._fail(job, f"its training could not start ({type(error).__name__}); see the server's log")
                logger.exception("the training of run %s could not start", job.run_id)
        if (self._running or self._exiting) and not self._watching:
            self._watching = True
            threading.Thread(target=self._watch, name="mnistviz-follow-runs", daemon=True).start()

    def _watch(self) -> None:
        """Follow every training run a few times a second until none is left; start the next as each ends."""
        while True:
            time.sleep(FLUSH_SECONDS)
            with self._lock:
                running, exiting = list(self._running), list(self._exiting)
            for training in exiting:
                if self._exit_code(training) is not None:  # reaped: no process is left behind
                    with self._lock:
                        self._exiting.remove(training)
            for job in running:
                self._hold_to_budget(job)
                if not job.follower.update():
                    code = self._exit_code(job.training)
                    if code is None:
                        continue
                    if not job.follower.update():  # what it wrote last says how it ended, unless it died
                        self._lost(job, code)
                with self._lock:  # its log has said how it ended: the process is only tidying up
                    self._running.remove(job)
                    self._exiting.append(job.training)
                    job.done.set()
                    self._start_waiting()
                    self._forget_finished()
            with self._lock:
                if not self._running and not self._exiting:
                    self._watching = False
                    return

    def _hold_to_budget(self, job: Job) -> None:
        """Stop a student's run that has trained for twice its budget: its estimate was wrong. It keeps its epochs."""
        if job.budget is None or job.started is None or job.stopping:
            return
        if time.monotonic() - job.started > 2 * job.budget:
            job.stopping = True
            reason = (
                f"it trained for twice the {estimates.duration_text(job.budget)} a student's run may take, "
                "so it was stopped; it kept what it had learned"
            )
            try:
                self.store.request_stop(job.run_id, reason)
            except MnistvizError:
                logger.warning("could not stop run %s, over its budget", job.run_id)

    def _exit_code(self, training: Training) -> int | None:
        """The process's exit code, None while it runs or when it cannot be reached (said in `problem`)."""
        try:
            code = training.exit_code()
        except Exception as error:  # Ray lost: the run goes on there, or is found interrupted later
            self.problem = f"The training processes cannot be reached ({type(error).__name__}): {error}"
            return None
        self.problem = ""
        return code

    def _lost(self, job: Job, code: int) -> None:
        """A training process ended without saying how its run ended: it was killed, or it crashed."""
        how = f"killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
        error = f"its training process stopped ({how}; out of memory, or killed)"
        try:
            record = self.store.load(job.run_id)
            if record.status in (*ACTIVE, "interrupted"):
                self.store.write_status(job.run_id, "interrupted", ended=time.time(), error=error)
        except MnistvizError:
            pass  # deleted meanwhile, or the folder cannot be written: the pages say so when they read it
        job.progress.finish("interrupted", error=error)

    def _fail(self, job: Job, error: str) -> None:
        """A run whose training never started; the caller holds the lock."""
        try:
            self.store.write_status(job.run_id, "failed", ended=time.time(), error=error)
        except MnistvizError:
            pass
        job.progress.finish("failed", error=error)
        job.done.set()

    def stop(self, run_id: str) -> bool:
        """Stop a run at its next batch, or drop it from the queue; False if it is not active."""
        with self._lock:
            job = self._all.get(run_id)
            if job is None or job.done.is_set():
                return False
            job.stopping = True
            queued = job in self._queue
            if queued:
                self._queue.remove(job)
        if queued:
            self._drop(job)
        else:
            self.store.request_stop(run_id)
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
            if still and session == job.owner:  # hand it over: it no longer counts against its first asker's limits
                heir = min(job.owners - job.stop_asked)
                job.joined.discard(heir)
                job.joined.add(session)
                job.owner, job.address = heir, job.joined_from.get(heir)
        if not still:
            self.stop(run_id)
        return still

    def clear_queue(self) -> list[str]:
        """Take every run still waiting out of the queue and delete it (it never started: nothing is lost)."""
        with self._lock:
            waiting, self._queue = self._queue, []
            for job in waiting:
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

    def shut_down(self) -> None:
        """Kill every training process now and forget the queue (tests and benchmarks end with this)."""
        with self._lock:
            running, self._queue = list(self._running), []
        for job in running:
            if job.training is not None:
                job.training.kill()


_managers: dict[Path, JobManager] = {}
_managers_lock = threading.Lock()


def get_manager(runs_dir: Path | str | None = None) -> JobManager:
    """The one job manager of this process for a runs directory: training in local processes, or on a Ray cluster."""
    root = Path(runs_dir) if runs_dir is not None else config.runs_dir()
    key = root.expanduser().resolve()
    with _managers_lock:
        if key not in _managers:
            store = RunStore(root)
            store.sweep_temporary()  # what a crash left mid-write, on the process' first look at the folder
            address = config.ray_address()
            if address is None:
                executor: Executor = LocalProcesses(config.max_concurrent_jobs())
            else:  # Ray is imported only when a cluster is asked for
                from mnistviz.training.ray_executor import RayTasks

                executor = RayTasks(address, config.ray_cpus_per_job())
            _managers[key] = JobManager(store, executor)
        return _managers[key]
