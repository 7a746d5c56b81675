"""The class's queue on a Ray cluster: one named actor orders the runs and trains them as Ray tasks.

Every dashboard server (and the CLI) connected to the cluster talks to the same actor, so they share
one queue: a run trains once, in the order it was asked for, as many at a time as the cluster has
room for. A worker writes its run's files into the runs folder, which every node sees at the same
path (one machine, or a shared folder), and reports its progress to the actor a few times a second;
the dashboards replay those reports into their own live progress. Imported only on a cluster.
"""

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field

import ray

from mnistviz.progress import RunProgress
from mnistviz.spec import RunSpec

NAMESPACE = "mnistviz"
REPORT_EVERY = 0.25  # seconds between a worker's progress reports: the chart is about this far behind training
DONE_KEPT = 64  # finished entries the actor remembers, so every dashboard sees how its runs ended
QUEUE_LIMIT = 100  # runs waiting at once from students, as in the in-process queue


def queue_name(runs_root: str) -> str:
    """The actor's name: one queue per runs folder, shared by every dashboard that uses that folder."""
    return "mnistviz-queue-" + hashlib.sha256(runs_root.encode()).hexdigest()[:12]


class RecordedProgress(RunProgress):
    """A worker's live progress that also keeps every change, for the dashboards to replay."""

    def __init__(self, run_id: str, epochs_total: int):
        super().__init__(run_id, epochs_total)
        self._changes: list[tuple] = []
        self._changes_lock = threading.Lock()
        self._counters: tuple | None = None  # the latest batch's counters, when its row was not kept

    def _keep(self, name: str, *arguments) -> None:
        with self._changes_lock:
            self._changes.append((name, time.time(), *arguments))  # when: how far behind a dashboard is

    def start(self, steps_per_epoch: int, check_samples: int = 0) -> None:
        super().start(steps_per_epoch, check_samples)
        self._keep("start", steps_per_epoch, check_samples)

    def record_batch(self, step: int, batch_size: int, loss: float, accuracy: float) -> dict:
        """Only the rows kept are sent (at most a few thousand a run, whatever its batch size); the others'
        counters go with the next report."""
        row = super().record_batch(step, batch_size, loss, accuracy)
        with self._lock:  # RunProgress' own: no copy of the rows, on every batch
            kept = bool(self._batches) and self._batches[-1] is row
            step, seen = self._step, self._samples_seen
        with self._changes_lock:
            if kept:
                self._changes.append(("restore_batch", time.time(), row, step, seen))
                self._counters = None
            else:
                self._counters = (time.time(), step, seen)
        return row

    def record_epoch(self, row: dict) -> None:
        super().record_epoch(row)
        self._keep("record_epoch", row)

    def finish(self, status: str, error: str = "", test_accuracy: float | None = None) -> None:
        super().finish(status, error, test_accuracy)
        self._keep("finish", status, error, test_accuracy)

    def set_status(self, status: str) -> None:
        super().set_status(status)
        self._keep("set_status", status)

    def take_changes(self) -> list[tuple]:
        with self._changes_lock:
            if self._counters is not None:
                when, step, seen = self._counters
                self._changes.append(("restore_batch", when, None, step, seen))
                self._counters = None
            changes, self._changes = self._changes, []
        return changes


def replay(progress: RunProgress, changes: list) -> list[float]:
    """Apply a worker's recorded changes to a dashboard's copy of the run's progress.

    Returns how long after each batch it arrived here, in seconds (clocks of one machine, or synchronised).
    """
    delays, now = [], time.time()
    for name, when, *arguments in changes:
        if name in ("start", "restore_batch", "record_epoch", "finish", "set_status"):
            getattr(progress, name)(*arguments)
        if name == "restore_batch":
            delays.append(now - when)
    return delays


@dataclass
class Entry:
    """One run in the cluster's queue: who asked for it, where it stands, and its progress so far."""

    run_id: str
    spec: dict
    owner: str | None
    joined: set = field(default_factory=set)
    stop_asked: set = field(default_factory=set)
    state: str = "queued"  # queued, running or done
    status: str = "queued"  # how it ended, once done
    stop: bool = False
    changes: list = field(default_factory=list)
    ref: object = None

    @property
    def owners(self) -> set:
        return (self.joined | {self.owner}) if self.owner is not None else set()  # as `jobs.Job.owners`

    def view(self, since: int, position: int | None) -> dict:
        return {
            "run_id": self.run_id,
            "spec": self.spec,
            "owner": self.owner,
            "joined": sorted(self.joined),
            "stop_asked": sorted(self.stop_asked),
            "state": self.state,
            "status": self.status,
            "position": position,
            "changes": self.changes[since:],
            "cursor": len(self.changes),
        }


@ray.remote(num_cpus=0, max_concurrency=64)
class ClassQueue:
    """The queue every dashboard of a cluster shares; it starts each run as a Ray task when there is room."""

    def __init__(self, runs_root: str, cpus_per_job: int, environment: dict):
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._queue: list[str] = []
        self._running: list[str] = []
        self._done: list[str] = []
        self._runs_root, self._cpus, self._environment = runs_root, cpus_per_job, environment
        threading.Thread(target=self._watch, name="mnistviz-queue-watch", daemon=True).start()

    def enqueue(self, runs: list, owner: str | None, limit: int | None, reuse: bool) -> dict:
        """Queue freshly created runs ((run id, spec) pairs), all or none; each becomes itself or the run it joins.

        A run id the queue already holds (a dashboard queueing again what it left waiting) is not queued twice.
        """
        with self._lock:
            answer, new = [], []
            for run_id, spec in runs:
                same = self._entries.get(run_id) or (self._active_with(spec, new) if reuse else None)
                if same is not None:
                    answer.append(same.run_id)
                else:
                    new.append(Entry(run_id, spec, owner))
                    answer.append(run_id)
            if limit is not None:
                mine = sum(1 for run_id in self._running + self._queue if self._entries[run_id].owner == owner)
                if mine + len(new) > limit:
                    return {
                        "error": f"you already have {mine} run(s) training or waiting, and each student may have "
                        f"{limit} at a time: wait for one to finish, or stop one, then try again"
                    }
                if len(self._queue) + len(new) > QUEUE_LIMIT:
                    return {"error": f"the class's queue is full ({len(self._queue)} runs waiting): try again later"}
            for entry in new:
                self._entries[entry.run_id] = entry
                self._queue.append(entry.run_id)
            for run_id in answer:
                entry = self._entries[run_id]
                if owner is not None and owner != entry.owner and entry.state != "done":
                    entry.joined.add(owner)
            self._start_waiting()
            return {"run_ids": answer}

    def _active_with(self, spec: dict, new: list[Entry]) -> Entry | None:
        wanted = RunSpec.from_dict(spec)
        for entry in [*(self._entries[run_id] for run_id in self._running + self._queue), *new]:
            if RunSpec.from_dict(entry.spec) == wanted:
                return entry
        return None

    def state(self, cursors: dict) -> list[dict]:
        """Every run the queue holds or recently finished, with the progress changes after each cursor."""
        with self._lock:
            positions = {run_id: n for n, run_id in enumerate(self._queue, start=1)}
            order = self._running + self._queue + self._done
            return [self._entries[run_id].view(cursors.get(run_id, 0), positions.get(run_id)) for run_id in order]

    def report(self, run_id: str, changes: list) -> bool:
        """A worker's progress since its last report; whether it should stop."""
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None:
                return True
            entry.changes.extend(changes)
            return entry.stop

    def stop(self, run_id: str) -> str:
        """Stop a running run at its next report, or take a waiting one out: "running", "queued" or ""."""
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None or entry.state == "done":
                return ""
            entry.stop = True
            if entry.state == "queued":
                self._queue.remove(run_id)
                self._end(entry, "stopped")
                return "queued"
            return "running"

    def ask_to_stop(self, run_id: str, session: str) -> dict:
        """Count one asker's Stop; stop the run once all who asked for it did. How many still want it, and
        where the run was stopped ("running", "queued", or "" while others still want it)."""
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None or entry.state == "done":
                return {"still": 0, "stopped": ""}
            entry.stop_asked.add(session)
            still = len(entry.owners - entry.stop_asked)
        return {"still": still, "stopped": "" if still else self.stop(run_id)}

    def clear_queue(self) -> list[str]:
        """Take every waiting run out; the running ones go on."""
        with self._lock:
            waiting, self._queue = self._queue, []
            for run_id in waiting:
                self._end(self._entries[run_id], "stopped")
            return waiting

    def _end(self, entry: Entry, status: str, error: str = "") -> None:
        """Mark an entry done; the caller holds the lock."""
        if entry.state == "done":
            return
        if entry.state == "queued" or error:
            entry.changes.append(("finish", time.time(), status, error, None))
        entry.state, entry.status = "done", status
        self._done.insert(0, entry.run_id)
        for run_id in self._done[DONE_KEPT:]:
            del self._entries[run_id]
        del self._done[DONE_KEPT:]

    def _start_waiting(self) -> None:
        """Start waiting runs while the cluster has room; the caller holds the lock."""
        resources = ray.cluster_resources()
        slots = max(1, int(resources.get("CPU", 0) // self._cpus))
        gpus = 1 if resources.get("GPU", 0) >= 1 else 0
        while self._queue and len(self._running) < slots:
            entry = self._entries[self._queue.pop(0)]
            entry.state = "running"
            entry.ref = train_on_worker.options(num_cpus=self._cpus, num_gpus=gpus, max_retries=0).remote(
                entry.run_id, entry.spec, self._runs_root, self._cpus, self._environment
            )
            self._running.append(entry.run_id)

    def _watch(self) -> None:
        """Notice each training task's end: a worker that died leaves its run interrupted, with what it saved."""
        while True:
            with self._lock:
                refs = {self._entries[run_id].ref: run_id for run_id in self._running}
            if not refs:
                time.sleep(0.1)
                continue
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.5)
            for ref in ready:
                try:
                    status, error = ray.get(ref), ""
                except Exception as failure:  # the worker process died (killed, out of memory, node lost)
                    status = "interrupted"
                    error = f"the cluster's worker training it stopped ({type(failure).__name__})"
                with self._lock:
                    run_id = refs[ref]
                    self._running.remove(run_id)
                    self._end(self._entries[run_id], status, error)
                    self._start_waiting()


@ray.remote(max_retries=0)
def train_on_worker(run_id: str, spec: dict, runs_root: str, cpus: int, environment: dict) -> str:
    """Train one run on a cluster worker into the shared runs folder, reporting progress to the queue."""
    os.environ.update(environment)
    os.environ["MNISTVIZ_TF_THREADS"] = str(cpus)  # TensorFlow uses the cores Ray gave this task, no more
    from mnistviz import jobs, training
    from mnistviz.store import RunStore

    jobs.bound_tensorflow_threads()
    queue = ray.get_actor(queue_name(runs_root), namespace=NAMESPACE)
    run_spec = RunSpec.from_dict(spec)
    progress = RecordedProgress(run_id, run_spec.epochs)
    stop, ended = threading.Event(), threading.Event()

    def send() -> None:
        if ray.get(queue.report.remote(run_id, progress.take_changes())):
            stop.set()

    def reporter() -> None:
        while not ended.wait(REPORT_EVERY):
            send()

    thread = threading.Thread(target=reporter, name=f"report-{run_id}", daemon=True)
    thread.start()
    try:
        return training.execute(run_spec, run_id, RunStore(runs_root), progress, stop, executor="ray")
    finally:
        ended.set()
        thread.join()
        send()  # the last changes, the end among them
