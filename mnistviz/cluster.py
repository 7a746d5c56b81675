"""Training on a Ray cluster (MNISTVIZ_RAY_ADDRESS): the job manager the pages and the CLI use there.

It answers the pages exactly as the in-process `JobManager` does (submit, stop, the queue, each run's
live progress), but the queue is the cluster's (`cluster_queue.ClassQueue`, one named actor shared
by every dashboard on the cluster) and runs train on the cluster's workers. A thread polls the queue
a few times a second and replays each run's progress into a local `Job`, so a page reads a run
trained on the cluster exactly as it reads a local one. Runs are created and read in the runs
folder, which the workers write into at the same path.
"""

import os
import threading
import time
from collections import deque
from pathlib import Path

import ray

from mnistviz import cluster_queue
from mnistviz.errors import MnistvizError
from mnistviz.jobs import Job, TaskRunner, finished_by_spec
from mnistviz.progress import RunProgress
from mnistviz.spec import RunSpec
from mnistviz.store import ACTIVE, RunStore

POLL_SECONDS = 0.25  # how often the dashboard asks the queue for news: the chart is this plus a report behind
FORWARDED = ("MNISTVIZ_DATA", "KERAS_HOME", "TF_CPP_MIN_LOG_LEVEL")  # settings a worker needs as this server has them


def connect(address: str) -> None:
    """Join the cluster at `address` ("auto": the one this machine belongs to) as a driver, once per process."""
    if ray.is_initialized():
        return
    package = Path(__file__).resolve().parent
    try:
        ray.init(
            address=address,
            namespace=cluster_queue.NAMESPACE,
            runtime_env={"py_modules": [str(package)]},  # the workers run this very code
            log_to_driver=False,
            configure_logging=False,
        )
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError for an address it cannot use
        raise MnistvizError(f"cannot reach the Ray cluster at {address!r} (MNISTVIZ_RAY_ADDRESS): {error}") from error


class ClusterJobManager:
    """Submits runs to the cluster's shared queue and mirrors every run it holds as a local live `Job`."""

    executor = "ray"

    def __init__(self, store: RunStore, address: str, cpus_per_job: int = 1):
        self.store = store
        self.address = address
        self.tasks = TaskRunner()  # shift maps and measures stay on this server, next to the pages
        self.problem = ""  # what the pages say while the cluster cannot be reached
        self.delays: deque[float] = deque(maxlen=10_000)  # seconds from a worker's batch to its arrival here
        connect(address)
        environment = {name: os.environ[name] for name in FORWARDED if name in os.environ}
        runs_root = str(store.root.resolve())
        self._queue = cluster_queue.ClassQueue.options(
            name=cluster_queue.queue_name(runs_root), lifetime="detached", get_if_exists=True
        ).remote(runs_root, cpus_per_job, environment)
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._cursors: dict[str, int] = {}
        self._active: list[str] = []
        self._positions: dict[str, int] = {}
        self._requeued = False
        self._closed = threading.Event()
        self._polling = threading.Lock()
        self._poll()
        threading.Thread(target=self._keep_polling, name="mnistviz-cluster-poll", daemon=True).start()

    def _call(self, method: str, *arguments):
        if self._closed.is_set() or not ray.is_initialized():  # a call now would start Ray again on its own
            raise MnistvizError(f"the connection to the training cluster at {self.address} is closed")
        try:
            answer = ray.get(getattr(self._queue, method).remote(*arguments), timeout=30)
        except Exception as error:
            self.problem = (
                f"The training cluster at {self.address} cannot be reached ({type(error).__name__}): runs already "
                "queued wait in the runs folder and are queued again when the dashboard restarts."
            )
            raise MnistvizError(self.problem) from error
        self.problem = ""
        return answer

    def close(self) -> None:
        """Stop asking the cluster for news (before `ray.shutdown()`); the runs go on in the cluster."""
        self._closed.set()

    def _keep_polling(self) -> None:
        while not self._closed.wait(POLL_SECONDS):
            try:
                self._poll()
            except MnistvizError:
                pass  # said in self.problem; polling goes on

    def _poll(self) -> None:
        """Bring every run the queue holds up to date here: its state, who asked for it, its progress.

        One poll at a time: two at once would replay the same progress twice.
        """
        with self._polling:
            self._poll_once()

    def _poll_once(self) -> None:
        with self._lock:
            cursors = dict(self._cursors)
        entries = self._call("state", cursors)
        for entry in entries:  # its files say how it ended before anyone sees it done
            if entry["state"] == "done" and entry["status"] == "interrupted":
                job = self.get(entry["run_id"])
                if job is None or not job.done.is_set():
                    self._mark_interrupted(entry)
        with self._lock:
            active, positions = [], {}
            for entry in entries:
                job = self._mirror(entry)
                if entry["state"] != "done":
                    active.append(job.run_id)
                if entry["position"] is not None:
                    positions[job.run_id] = entry["position"]
            self._active, self._positions = active, positions
            reported = {entry["run_id"] for entry in entries}
            for run_id in [run_id for run_id, job in self._jobs.items() if job.done.is_set()]:
                if run_id not in reported:  # the queue forgot it (DONE_KEPT): its record is on disk
                    del self._jobs[run_id]
                    self._cursors.pop(run_id, None)

    def _mirror(self, entry: dict) -> Job:
        """The local job of a queue entry, with the entry's news applied. The caller holds the lock."""
        run_id = entry["run_id"]
        job = self._jobs.get(run_id)
        if job is None:
            spec = RunSpec.from_dict(entry["spec"])
            job = Job(run_id, spec, RunProgress(run_id, spec.epochs), entry["owner"])
            self._jobs[run_id] = job
        self.delays.extend(cluster_queue.replay(job.progress, entry["changes"]))
        self._cursors[run_id] = entry["cursor"]
        job.joined, job.stop_asked = set(entry["joined"]), set(entry["stop_asked"])
        if entry["state"] == "done" and not job.done.is_set():
            if entry["status"] == "stopped":
                job.stop_event.set()
            job.done.set()
        return job

    def _mark_interrupted(self, entry: dict) -> None:
        """A worker died mid-run: its run keeps what it saved and says it was interrupted (once, by any dashboard)."""
        run_id = entry["run_id"]
        try:
            record = self.store.load(run_id)  # "interrupted" already when its worker was on this machine
            if record.status in (*ACTIVE, "interrupted") and not record.error:
                error = next((change[3] for change in entry["changes"] if change[0] == "finish"), "")
                self.store.write_status(run_id, "interrupted", ended=time.time(), error=error, executor="ray")
        except MnistvizError:
            pass  # deleted meanwhile, or the folder cannot be written: the pages say so when they read it

    def submit(self, spec: RunSpec, owner: str | None = None, limit: int | None = None, reuse: bool = False) -> Job:
        return self.submit_all([spec], owner, limit, reuse)[0]

    def submit_all(
        self, specs: list[RunSpec], owner: str | None = None, limit: int | None = None, reuse: bool = False
    ) -> list[Job]:
        """Queue runs in the cluster's queue, all or none, joining identical ones with `reuse` (see JobManager)."""
        finished = finished_by_spec(self.store) if reuse else {}
        created: list[tuple[str, RunSpec]] = []
        try:
            for spec in specs:
                if spec not in finished:
                    run_id = self.store.create(spec, owner)
                    self.store.write_status(run_id, "queued", executor="ray")
                    created.append((run_id, spec))
            answer = self._call("enqueue", [(run_id, spec.to_dict()) for run_id, spec in created], owner, limit, reuse)
            if "error" in answer:
                raise MnistvizError(answer["error"])
        except MnistvizError:
            for run_id, _ in created:  # all or none: nothing queued is left behind
                self.store.delete(run_id)
            raise
        kept = dict(zip((run_id for run_id, _ in created), answer["run_ids"], strict=True))
        for run_id, became in kept.items():
            if became != run_id:  # joined a run already queued or training: this folder is not needed
                self.store.delete(run_id)
        self._poll()
        with self._lock:
            new = iter(kept.values())
            return [finished[spec] if spec in finished else self._jobs[next(new)] for spec in specs]

    def requeue_abandoned(self) -> list[str]:
        """Queue again the runs a stopped server left waiting that the cluster's queue no longer holds; once."""
        with self._lock:
            if self._requeued:
                return []
            self._requeued = True
            known = set(self._jobs)
        waiting = sorted(
            (
                record
                for record in self.store.list()
                if record.spec is not None
                and record.run_id not in known
                and record.status in ("queued", "interrupted")
                and (record.abandoned_queue or (record.status == "queued" and record.executor == "ray"))
            ),
            key=lambda record: (record.timing.get("created") or 0, record.run_id),
        )
        for record in waiting:  # one at a time, in order, each with its owner: they keep their Stop
            self.store.write_status(record.run_id, "queued", owner=record.owner, executor="ray")
            self._call("enqueue", [(record.run_id, record.spec.to_dict())], record.owner, None, False)
        if waiting:
            self._poll()
        return [record.run_id for record in waiting]

    def stop(self, run_id: str) -> bool:
        """Stop a run at its next report, or take it out of the queue; False if it is not active."""
        where = self._call("stop", run_id)
        if where == "queued":
            self.store.write_status(run_id, "stopped", executor="ray")
        if where:
            self._poll()
        return bool(where)

    def ask_to_stop(self, run_id: str, session: str) -> int:
        """Count `session`'s Stop on a run it asked for (see JobManager.ask_to_stop); those still wanting it."""
        answer = self._call("ask_to_stop", run_id, session)
        if answer["stopped"] == "queued":
            self.store.write_status(run_id, "stopped", executor="ray")
        self._poll()
        return answer["still"]

    def clear_queue(self) -> list[str]:
        cleared = self._call("clear_queue")
        for run_id in cleared:
            try:
                self.store.delete(run_id)
            except MnistvizError:
                pass
        self._poll()
        return cleared

    def get(self, run_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(run_id)

    def active(self) -> list[Job]:
        """Running runs, then waiting ones in the order they will start, from every dashboard of the cluster."""
        with self._lock:
            return [self._jobs[run_id] for run_id in self._active]

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            return self._positions.get(run_id)

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        job = self.get(run_id)
        return job.done.wait(timeout) if job else True
