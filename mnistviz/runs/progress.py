"""Live progress of one run: kept by the process that trains it, logged to progress.jsonl, followed by the dashboard.

The training process appends every change to `progress.jsonl` in the run's folder a few times a second
(`ProgressLog`); the dashboard reads the lines added since its last look into its own copy
(`ProgressFollower`). One path, whether the run trains in a child process or on a Ray worker.
"""

import json
import threading
import time
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from pathlib import Path

from mnistviz.runs.curves import PER_BATCH

MAX_BATCH_ROWS = 4000  # batch rows kept per run, spread evenly over it: history.json and every chart stay small
PROGRESS_FILE = "progress.jsonl"
FLUSH_SECONDS = 0.25  # how often a training process appends its news: the chart is about this far behind
READ_LIMIT = 8 * 1024 * 1024  # bytes read from a progress log at one look; a run logs well under 2 MB in all


@dataclass(frozen=True)
class ProgressSnapshot:
    """A consistent copy of a run's progress at one moment."""

    run_id: str
    status: str
    epochs_total: int
    epoch: int  # epochs finished
    steps_per_epoch: int
    step: int  # steps finished in the current epoch
    samples_seen: int
    elapsed: float
    batches: tuple = ()
    epochs: tuple = ()
    error: str = ""
    test_accuracy: float | None = None
    check_seconds: float | None = None  # one epoch's validation, as measured (estimated before the first)
    check_samples: int = 0  # validation digits per epoch; the final test has as many again

    @property
    def fraction(self) -> float:
        """How much of the whole run is done, 0..1."""
        total = self.epochs_total * max(self.steps_per_epoch, 1)
        done = self.epoch * max(self.steps_per_epoch, 1) + self.step
        return min(1.0, done / total) if total else 0.0

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Training still to do, plus each remaining epoch's validation and the final test.

        Validation happens after an epoch's last batch: without it the estimate said "0 s left"
        for the 11 s of the last validation and the test. Before the first validation is measured,
        it is estimated from the training speed (a prediction costs about a third of a training step).
        """
        if self.fraction <= 0 or self.status != "running":
            return None
        check = self.check_seconds
        if check is None:
            check = self.check_samples / (3 * self.samples_per_second) if self.samples_per_second else 0.0
        pace = self.seconds_per_step
        if pace is None:  # fewer than two batches of one epoch timed yet: the whole run's average so far
            training_left = max(self.elapsed - check * self.epoch, 0.0) * (1 - self.fraction) / self.fraction
        else:
            steps_left = (self.epochs_total - self.epoch) * max(self.steps_per_epoch, 1) - self.step
            training_left = max(steps_left, 0) * pace
        checks_left = self.epochs_total - self.epoch + 1  # this epoch's validation onwards, and the test
        return training_left + check * checks_left

    @property
    def seconds_per_step(self) -> float | None:
        """This run's pace now: seconds per batch over the latest epoch with two timed batches after its first.

        The run's average would count the start (loading the data, building the model, tracing the first
        step) into every batch to come: a run said 14 min left, then 6, then 4, and finished 2 min later.
        """
        for epoch in range(self.epoch + 1, 0, -1):
            rows = [row for row in self.batches if row.get("epoch") == epoch and row.get("step", 0) >= 2]
            if len(rows) >= 2 and rows[-1]["step"] > rows[0]["step"]:
                return (rows[-1]["seconds"] - rows[0]["seconds"]) / (rows[-1]["step"] - rows[0]["step"])
        return None

    @property
    def finishing(self) -> bool:
        """Every batch is trained: what is left (the last validation, the test, saving) has no honest clock."""
        return self.status == "running" and self.fraction >= 1.0


@dataclass
class RunProgress:
    """Mutable, lock-protected progress; the worker calls the `record_*` methods."""

    run_id: str
    epochs_total: int
    status: str = "queued"
    steps_per_epoch: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: float | None = None
    _finished_at: float | None = None
    _epoch: int = 0
    _step: int = 0
    _samples_seen: int = 0
    _batches: list = field(default_factory=list)
    _batches_recorded: int = 0
    _stride: int = 1  # every _stride-th batch is kept; doubles whenever MAX_BATCH_ROWS would be passed
    _epochs: list = field(default_factory=list)
    _error: str = ""
    _test_accuracy: float | None = None
    _check_samples: int = 0
    _last_batch_at: float | None = None
    _check_seconds: list = field(default_factory=list)

    def start(self, steps_per_epoch: int, check_samples: int = 0, ago: float = 0.0) -> None:
        """Training began `ago` seconds ago: `check_samples` digits are validated after each epoch (and tested at the end)."""
        with self._lock:
            self.status = "running"
            self.steps_per_epoch = steps_per_epoch
            self._check_samples = check_samples
            self._started = time.monotonic() - max(ago, 0.0)

    def record_batch(self, step: int, batch_size: int, loss: float, accuracy: float) -> dict:
        """One finished training batch (`step` counts from 1 within the epoch) with its own loss and accuracy.

        Batch size 1 on 60,000 digits for 200 epochs is 12 million batches: only every `_stride`-th is
        kept, and when MAX_BATCH_ROWS would be passed every other kept row goes and the stride doubles,
        so the rows always cover the whole run evenly.
        """
        with self._lock:
            self._step = step
            self._samples_seen += batch_size
            self._last_batch_at = time.monotonic()
            row = {
                "epoch": self._epoch + 1,
                "step": step,
                "samples_seen": self._samples_seen,
                "seconds": round(self._elapsed(), 3),
                "loss": loss,
                "accuracy": accuracy,
            }
            if self._batches_recorded % self._stride == 0:
                self._batches.append(row)
                if len(self._batches) > MAX_BATCH_ROWS:
                    self._batches = self._batches[::2]
                    self._stride *= 2
            self._batches_recorded += 1
            return row

    def restore_batch(self, row: dict | None, step: int, samples_seen: int) -> None:
        """Batches recorded in the training process: the row it kept, if any, and its counters since.

        The training process keeps rows by the rule above; applying its kept rows in order, with the same
        halving, keeps the same rows here.
        """
        with self._lock:
            self._step, self._samples_seen = step, samples_seen
            self._last_batch_at = time.monotonic()
            if row is not None:
                self._batches.append(row)
                if len(self._batches) > MAX_BATCH_ROWS:
                    self._batches = self._batches[::2]

    def record_epoch(self, row: dict, check_seconds: float | None = None) -> float | None:
        """An epoch ended; returns how long its validation took (measured here, or as given by the trainer)."""
        with self._lock:
            if check_seconds is None and self._last_batch_at is not None:  # from the epoch's last batch to its end
                check_seconds = time.monotonic() - self._last_batch_at
            if check_seconds is not None:
                self._check_seconds.append(check_seconds)
            self._last_batch_at = None
            self._epochs.append(row)
            self._epoch = len(self._epochs)
            self._step = 0
            return check_seconds

    def finish(self, status: str, error: str = "", test_accuracy: float | None = None) -> None:
        with self._lock:
            self.status = status
            self._error = error
            self._test_accuracy = test_accuracy
            self._finished_at = time.monotonic()

    def set_status(self, status: str) -> None:
        with self._lock:
            self.status = status

    def history(self) -> dict:
        """What history.json holds: per-epoch rows and per-batch rows (each batch's own loss and accuracy)."""
        with self._lock:
            return {"epochs": list(self._epochs), "batches": list(self._batches), "batch_values": PER_BATCH}

    def _elapsed(self) -> float:
        if self._started is None:
            return 0.0
        end = self._finished_at if self._finished_at is not None else time.monotonic()
        return end - self._started

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            return ProgressSnapshot(
                run_id=self.run_id,
                status=self.status,
                epochs_total=self.epochs_total,
                epoch=self._epoch,
                steps_per_epoch=self.steps_per_epoch,
                step=self._step,
                samples_seen=self._samples_seen,
                elapsed=self._elapsed(),
                batches=tuple(self._batches),
                epochs=tuple(self._epochs),
                error=self._error,
                test_accuracy=self._test_accuracy,
                check_seconds=sum(self._check_seconds) / len(self._check_seconds) if self._check_seconds else None,
                check_samples=self._check_samples,
            )


class ProgressLog(RunProgress):
    """The training process's progress, which also appends each change to progress.jsonl on `flush`.

    Only the batch rows kept are logged (at most a few thousand a run, whatever its batch size); the
    latest counters go with the next flush. Each line is `[change, wall-clock time, *arguments]`.
    """

    def __init__(self, run_id: str, epochs_total: int, path: Path):
        super().__init__(run_id, epochs_total)
        self._path = path
        self._pending: list[list] = []
        self._counters: list | None = None
        self._log_lock = threading.Lock()
        path.write_text("")  # a run trains once: the log starts with its training

    def _keep(self, *change) -> None:
        with self._log_lock:
            self._pending.append([change[0], time.time(), *change[1:]])

    def start(self, steps_per_epoch: int, check_samples: int = 0, ago: float = 0.0) -> None:
        super().start(steps_per_epoch, check_samples, ago)
        self._keep("start", steps_per_epoch, check_samples)

    def record_batch(self, step: int, batch_size: int, loss: float, accuracy: float) -> dict:
        row = super().record_batch(step, batch_size, loss, accuracy)
        with self._lock:  # RunProgress' own: no copy of the rows, on every batch
            kept = bool(self._batches) and self._batches[-1] is row
            step, seen = self._step, self._samples_seen
        with self._log_lock:
            if kept:
                self._pending.append(["batch", time.time(), row, step, seen])
                self._counters = None
            else:
                self._counters = ["batch", time.time(), None, step, seen]
        return row

    def record_epoch(self, row: dict, check_seconds: float | None = None) -> float | None:
        measured = super().record_epoch(row, check_seconds)
        self._keep("epoch", row, measured)
        return measured

    def finish(self, status: str, error: str = "", test_accuracy: float | None = None) -> None:
        super().finish(status, error, test_accuracy)
        self._keep("finish", status, error, test_accuracy)

    def set_status(self, status: str) -> None:
        super().set_status(status)
        self._keep("status", status)

    def flush(self) -> None:
        """Append what changed since the last flush, as whole lines in one write."""
        with self._log_lock:
            if self._counters is not None:
                self._pending.append(self._counters)
                self._counters = None
            pending, self._pending = self._pending, []
        if pending:
            with self._path.open("a", encoding="utf-8") as log:
                log.write("".join(json.dumps(change) + "\n" for change in pending))


class ProgressFollower:
    """The dashboard's copy of a run's progress, brought up to date from its progress.jsonl by `update`.

    The log is written by a training process and read as untrusted: a line that is not a known change
    with sound values is skipped, and no look reads more than READ_LIMIT bytes.
    """

    def __init__(self, path: Path, progress: RunProgress, delays: MutableSequence[float] | None = None):
        self.path, self.progress = path, progress
        self._offset = 0
        self.ended = False  # the log has said how the run ended
        self.delays = [] if delays is None else delays  # seconds from a batch in the trainer to its arrival here

    def update(self) -> bool:
        """Apply the changes logged since the last look; whether the log has said the run ended."""
        try:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read(READ_LIMIT)
        except OSError:
            return self.ended
        whole = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
        self._offset += whole
        now = time.time()
        for line in chunk[:whole].splitlines():
            try:
                name, when, *arguments = json.loads(line)
                self.ended |= self._apply(name, float(when), now, arguments)
            except (ValueError, TypeError, KeyError):
                continue
        return self.ended

    def _apply(self, name: str, when: float, now: float, arguments: list) -> bool:
        progress = self.progress
        if name == "start":
            steps, checks = (int(value) for value in arguments)
            progress.start(steps, checks, ago=now - when)
        elif name == "batch":
            row, step, seen = arguments
            if row is not None and not isinstance(row, dict):
                raise TypeError("a batch row is an object")
            progress.restore_batch(row, int(step), int(seen))
            self.delays.append(now - when)
        elif name == "epoch":
            row, check = arguments
            if not isinstance(row, dict):
                raise TypeError("an epoch row is an object")
            progress.record_epoch(row, None if check is None else float(check))
        elif name == "finish":
            status, error, accuracy = arguments
            progress.finish(str(status), str(error), None if accuracy is None else float(accuracy))
            return True
        elif name == "status":
            progress.set_status(str(arguments[0]))
        return False
