"""Runs on disk: one folder per run, every file replaced atomically.

runs/<run_id>/spec.json         the RunSpec
runs/<run_id>/status.json       status, timing, the pid of the process that trains it, its heartbeat
runs/<run_id>/progress.jsonl    every batch row kept and every epoch, appended while it trains (progress.py)
runs/<run_id>/stop              left by the dashboard to ask the training process to stop
runs/<run_id>/history.json      per-epoch and per-batch metrics, rewritten after every epoch
                                (listing runs reads only its epochs, cached until the file changes)
runs/<run_id>/model.keras       the weights after the last finished epoch, then the final model
runs/<run_id>/evaluation.json   test accuracy and parameter count
runs/<run_id>/test_predictions.npy  the predicted digit of every test image
"""

import contextlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import curves, runfiles
from mnistviz.runs.cache import BoundedCache
from mnistviz.runs.progress import MAX_BATCH_ROWS
from mnistviz.show import text

STATUSES = runfiles.STATUSES
ACTIVE = ("queued", "running")
PINNED_FILE = "pinned.json"  # in the runs folder: the teacher's choice of models for Draw
MAX_PINNED = 8
RUN_ID = re.compile(
    r"[0-9]{8}-[0-9]{6}-(mlp|cnn)-(centered|offset)-[0-9a-f]{6}"
)  # ASCII digits only, not \d  # whole names only: fullmatch
MODEL_FILE = "model.keras"
HOST = socket.gethostname()
PREDICTIONS_FILE = "test_predictions.npy"
STOP_FILE = "stop"
HEARTBEAT_SECONDS = 5.0  # how often a training process says it is alive in status.json
HEARTBEAT_LOST = 60.0  # a run on another machine silent this long has lost its process


@dataclass
class RunRecord:
    """Everything saved about one run, as read from its folder."""

    run_id: str
    folder: Path
    status: str
    spec: RunSpec | None = None
    epochs: list[dict] = field(default_factory=list)  # one row per finished epoch; the batches: RunStore.history
    evaluation: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    error: str = ""
    owner: str | None = None  # who started it from a browser (a hash of that browser's token), if anyone
    executor: str = "local"  # where it trains or trained: this server ("local") or a Ray cluster ("ray")
    host: str | None = None  # the machine that last wrote its status (older runs do not say)
    abandoned_queue: bool = False  # queued by a process that is gone: it never started
    imported: float | None = None  # when it came in a bundle (trained elsewhere), if it did

    @property
    def has_model(self) -> bool:
        return (self.folder / MODEL_FILE).is_file()

    @property
    def model_path(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def model_is_current(self) -> bool:
        """Whether its saved model is the one its spec describes today (a blur model saved before blur pooling
        padded by reflection is not): only such a run may answer a new request for the same spec."""
        if self.spec is None or not self.has_model:
            return False
        return self.spec.pool != "blur" or runfiles.blur_reflects(self.model_path)

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    @property
    def label(self) -> str:
        return self.spec.label if self.spec else self.run_id

    @property
    def test_accuracy(self) -> float | None:
        return self.evaluation.get("test_accuracy")

    @property
    def val_accuracy(self) -> float | None:
        """The last epoch's validation accuracy."""
        return self.epochs[-1].get("val_accuracy") if self.epochs else None

    @property
    def best_val_accuracy(self) -> float | None:
        values = [e["val_accuracy"] for e in self.epochs if e.get("val_accuracy") is not None]
        return max(values) if values else None

    @property
    def model_val_accuracy(self) -> float | None:
        """The validation accuracy of the weights it saved and tested: what to choose a run by, never its test accuracy.

        With `patience` Keras' EarlyStopping puts the best epoch's weights back when training ends (however it
        ends, Stop included); without it the weights are the last epoch's.
        """
        if self.spec is not None and self.spec.patience:
            return self.best_val_accuracy
        return self.val_accuracy

    @property
    def seconds_per_epoch(self) -> float | None:
        seconds = [e["seconds"] for e in self.epochs if e.get("seconds")]
        return float(np.median(seconds)) if seconds else None

    @property
    def samples_per_second(self) -> float | None:
        per_epoch = self.seconds_per_epoch
        if not per_epoch or self.spec is None:
            return None
        return self.spec.train_size / per_epoch

    def summary(self) -> dict:
        """The JSON-able summary the CLI prints and the Compare table shows."""
        spec = self.spec
        return {
            "run_id": self.run_id,
            "name": self.label,
            "status": "queued" if self.abandoned_queue else self.status,  # the dashboard queues it again when it starts
            "arch": spec.arch if spec else None,
            "data": spec.data if spec else None,
            "epochs": spec.epochs if spec else None,
            "epochs_done": self.epochs_done,
            "batch_size": spec.batch_size if spec else None,
            "learning_rate": spec.learning_rate if spec else None,
            "train_size": spec.train_size if spec else None,
            "seed": spec.seed if spec else None,
            "augment_shift": spec.augment_shift if spec else None,
            "head": spec.head if spec else None,
            "padding": spec.padding if spec else None,
            "pool": spec.pool if spec else None,
            "input": spec.view if spec else None,
            "params": self.evaluation.get("params"),
            "val_accuracy": self.val_accuracy,
            "best_val_accuracy": self.best_val_accuracy,
            "test_accuracy": self.test_accuracy,
            "seconds_per_epoch": self.seconds_per_epoch,
            "samples_per_second": self.samples_per_second,
            "created": self.timing.get("created"),
            "executor": self.executor,
            "host": self.host,
            "error": self.error or None,
            "imported": self.imported is not None,
        }


TEMPORARY = (".*.tmp", ".model.*.keras", ".pred.*.npy")  # what a write in progress is called; never data
STALE_SECONDS = 600  # a temporary file this old was left by a crash: no write takes minutes
STAGING = ".import-"  # the hidden folder a bundle unpacks into (runs/bundle.py); never a run id, so never listed


def _umask() -> int:
    """This process' umask, read where Linux tells it; elsewhere set and put back (os.umask cannot only read)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(folder: Path, prefix: str, suffix: str) -> str:
    """A new temporary file for an atomic write, with the permissions the umask gives any file (not 0600).

    The server and the command line may run under different accounts over one runs folder.
    """
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_umask())
    return temporary


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    temporary = _temporary(path.parent, f".{path.name}.", ".tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, value) -> None:
    atomic_write_bytes(path, json.dumps(value, indent=1).encode())


@contextlib.contextmanager
def _saving(path: Path):
    """Turn a failed write (full disk, read-only or vanished folder) into a message a teacher can act on."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise MnistvizError(
            f"cannot save {path.parent.name}/{path.name} ({reason}): free some disk space or set MNISTVIZ_RUNS "
            "to a writable folder with room; what was saved before is kept"
        ) from error


def process_start(pid: int) -> str | None:
    """A token that tells a live process from a later one with the same pid (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def process_alive(pid: int | None, start: str | None) -> bool:
    """Whether process `pid` still runs and is the one that had `start` (process_start), not a later one."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another account's: only its start time can say it is the writer
        pass
    token = process_start(pid)
    if token is None:  # no /proc: a live pid is all there is to go by
        return True
    return token == start  # the very process that wrote the status, not a later one with its pid


def _dead_here(status: dict) -> bool:
    """Whether the process that last wrote an active run's status is gone.

    A run training on another machine of a Ray cluster is judged by its heartbeat; every other run by
    its pid, even if the machine's name changed since (a laptop on another network): otherwise its
    queue would wait forever after a restart.
    """
    if status["executor"] == "ray" and status["host"] not in (None, HOST):
        beat = status["heartbeat"] or status["updated"]
        return status["status"] == "running" and beat is not None and time.time() - beat > HEARTBEAT_LOST
    return not process_alive(status["pid"], status["process_start"])


class RunStore:
    """The runs directory: creating, updating, listing and deleting runs."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else config.runs_dir()
        self._unsaved: dict[str, dict] = {}  # statuses the disk refused: this process still reports them
        self._status_lock = threading.RLock()  # a heartbeat never overwrites a status written meanwhile

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MnistvizError(f"cannot create the runs folder (MNISTVIZ_RUNS): {error.strerror}") from error
        if not os.access(self.root, os.W_OK):
            raise MnistvizError("the runs folder is not writable: set MNISTVIZ_RUNS to a writable folder")

    def folder(self, run_id: str) -> Path:
        """The folder of `run_id`; ids never come from user text, and are checked to be sure."""
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            raise MnistvizError(f"'{run_id}' is not a run id")
        return self.root / run_id

    def create(self, spec: RunSpec, owner: str | None = None) -> str:
        """Make the folder of a new queued run and return its generated id; `owner` is who may stop it."""
        self._ensure_root()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_id = f"{stamp}-{spec.arch}-{spec.data}-{secrets.token_hex(3)}"
        folder = self.root / run_id
        try:
            folder.mkdir()
            atomic_write_json(folder / "spec.json", spec.to_dict())
            self.write_status(run_id, "queued", created=time.time(), owner=owner)
        except (OSError, MnistvizError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            self._unsaved.pop(run_id, None)
            reason = error.__cause__ if isinstance(error, MnistvizError) and error.__cause__ else error
            raise MnistvizError(
                f"cannot save a new run ({getattr(reason, 'strerror', None) or reason}): "
                "free some disk space or set MNISTVIZ_RUNS to a writable folder with room"
            ) from error
        return run_id

    def write_status(self, run_id: str, status: str, **fields) -> None:
        """Replace status.json, keeping earlier timing fields; records which process owns the run."""
        with self._status_lock:
            self._write_status(run_id, status, fields)

    def heartbeat(self, run_id: str) -> None:
        """Say the process training `run_id` is alive, if its status still says running."""
        with self._status_lock:
            try:
                if runfiles.status(_read_json(self.folder(run_id) / "status.json"))["status"] == "running":
                    self._write_status(run_id, "running", {"heartbeat": time.time()})
            except MnistvizError:
                pass  # deleted meanwhile, or the disk is full: the next beat tries again

    def request_stop(self, run_id: str, reason: str = "") -> None:
        """Leave the training process of `run_id` the request to stop at its next batch, and why if not asked by a user."""
        try:
            (self.folder(run_id) / STOP_FILE).write_text(reason[:1000], encoding="utf-8")
        except OSError as error:
            raise MnistvizError(f"cannot ask run {run_id} to stop: {error.strerror or error}") from error

    def stop_requested(self, run_id: str) -> bool:
        return (self.folder(run_id) / STOP_FILE).exists()

    def stop_reason(self, run_id: str) -> str:
        """Why the dashboard asked `run_id` to stop: "" when a user pressed Stop (or the file cannot be read)."""
        try:
            return text.clean(runfiles.read_bytes(self.folder(run_id) / STOP_FILE).decode("utf-8", "replace"))
        except (OSError, MnistvizError):
            return ""

    def _write_status(self, run_id: str, status: str, fields: dict) -> None:
        path = self.folder(run_id) / "status.json"
        current = {}
        if path.is_file():
            try:
                current = runfiles.read_json(path)
            except (OSError, ValueError, RecursionError, MnistvizError):
                current = {}
            if not isinstance(current, dict):
                current = {}
        pid = os.getpid()
        current.update(fields, status=status, pid=pid, process_start=process_start(pid), updated=time.time())
        current["host"] = HOST  # a pid means something on its own machine only
        try:
            with _saving(path):
                atomic_write_json(path, current)
        except MnistvizError:
            self._unsaved[run_id] = current
            raise
        self._unsaved.pop(run_id, None)

    def write_history(self, run_id: str, history: dict) -> None:
        path = self.folder(run_id) / "history.json"
        with _saving(path):
            atomic_write_json(path, history)

    def write_evaluation(self, run_id: str, evaluation: dict, predictions: np.ndarray | None = None) -> None:
        folder = self.folder(run_id)
        if predictions is not None:
            with _saving(folder / "test_predictions.npy"):
                temporary = _temporary(folder, ".pred.", ".npy")
                try:
                    np.save(temporary, predictions.astype(np.uint8))
                    os.replace(temporary, folder / "test_predictions.npy")
                finally:
                    Path(temporary).unlink(missing_ok=True)
        with _saving(folder / "evaluation.json"):
            atomic_write_json(folder / "evaluation.json", evaluation)

    def save_model(self, run_id: str, model) -> None:
        """Save a Keras model atomically (Keras needs the .keras suffix on the temporary file)."""
        folder = self.folder(run_id)
        with _saving(folder / MODEL_FILE):
            temporary = _temporary(folder, ".model.", ".keras")
            try:
                model.save(temporary)
                os.replace(temporary, folder / MODEL_FILE)
            finally:
                Path(temporary).unlink(missing_ok=True)

    def history(self, run_id: str) -> dict:
        """A run's whole history, per epoch and each batch's own values; empty before its first epoch or when unusable."""
        path = self.folder(run_id) / "history.json"
        try:
            history = curves.per_batch(runfiles.history(_read_json(path)))
        except MnistvizError:
            return {"epochs": [], "batches": [], "batch_values": curves.PER_BATCH}
        batches = history["batches"]
        if len(batches) > MAX_BATCH_ROWS:  # written before histories were bounded: send a page no more
            step = -(-len(batches) // MAX_BATCH_ROWS)
            history["batches"] = batches[::step]
        return history

    def test_predictions(self, run_id: str) -> np.ndarray | None:
        """The predicted digit of every test image; None when there are none or they are damaged (`load` says why)."""
        try:
            return _predictions(self.folder(run_id) / PREDICTIONS_FILE)
        except MnistvizError:
            return None

    def load(self, run_id: str) -> RunRecord:
        """Read one run; a missing or corrupt file makes it 'damaged' with the reason."""
        folder = self.folder(run_id)
        if not folder.is_dir():
            raise MnistvizError(f"there is no run '{run_id}'")
        record = RunRecord(run_id=run_id, folder=folder, status="damaged")
        try:
            record.spec = _spec(_read_json(folder / "spec.json"))
            status = runfiles.status(self._unsaved.get(run_id) or _read_json(folder / "status.json"))
            record.epochs = _epochs(folder / "history.json")
            evaluation_path = folder / "evaluation.json"
            if evaluation_path.exists():
                record.evaluation = runfiles.evaluation(_read_json(evaluation_path))
            _predictions(folder / PREDICTIONS_FILE, record.evaluation.get("test_size"))
        except MnistvizError as error:
            record.error = str(error)
            return record
        record.status = status["status"]
        record.error = status["error"]
        record.timing = {key: status[key] for key in ("created", "started", "ended")}
        record.owner = status["owner"]
        record.executor, record.host = status["executor"], status["host"]
        record.imported = status["imported"]
        if record.status in ACTIVE and _dead_here(status):
            record.abandoned_queue = record.status == "queued"
            record.status = "interrupted"
        return record

    def list(self) -> list[RunRecord]:
        """All runs, newest first; folders that are not runs are ignored."""
        if not self.root.is_dir():
            return []
        ids = sorted((p.name for p in self.root.iterdir() if p.is_dir() and RUN_ID.fullmatch(p.name)), reverse=True)
        records = []
        for run_id in ids:
            try:
                records.append(self.load(run_id))
            except MnistvizError:  # deleted while listing (the teacher, clearing the queue): not a run any more
                continue
        return records

    def pinned(self) -> "list[str]":
        """The runs the teacher pinned for every student's Draw page; none when the file is missing or unusable."""
        try:
            value = _read_json(self.root / PINNED_FILE)
        except MnistvizError:
            return []
        if not isinstance(value, list):
            return []
        return [run_id for run_id in value[:MAX_PINNED] if isinstance(run_id, str) and RUN_ID.fullmatch(run_id)]

    def pin(self, run_ids: "list[str]") -> None:
        """Pin these runs (at most MAX_PINNED) for everyone's Draw page, replacing the pins before."""
        if len(run_ids) > MAX_PINNED:
            raise MnistvizError(f"pin at most {MAX_PINNED} runs: a Draw page shows each one")
        for run_id in run_ids:
            self.folder(run_id)  # refuses anything that is not a run id
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / PINNED_FILE
        with _saving(path):
            atomic_write_json(path, list(run_ids))

    def sweep_temporary(self, older_than: float = STALE_SECONDS) -> "list[Path]":
        """Remove the temporary files a crash left in run folders (none is ever read), and the folder of an import
        killed mid-way; those removed.

        Only files older than `older_than` seconds: a younger one may be a write in progress elsewhere.
        """
        if not self.root.is_dir():
            return []
        now, removed = time.time(), []
        for folder in self.root.glob(f"{STAGING}*"):  # an import killed mid-way
            try:
                if folder.is_dir() and not folder.is_symlink() and now - folder.stat().st_mtime >= older_than:
                    shutil.rmtree(folder)
                    removed.append(folder)
            except OSError:
                pass
        for folder in self.root.iterdir():
            if not (folder.is_dir() and RUN_ID.fullmatch(folder.name)):
                continue
            for pattern in TEMPORARY:
                for path in folder.glob(pattern):
                    try:
                        if now - path.stat().st_mtime >= older_than:
                            path.unlink()
                            removed.append(path)
                    except OSError:
                        pass  # gone already, or not ours to remove
        return removed

    def delete(self, run_id: str) -> None:
        """Delete a run's folder; a MnistvizError if any of it is left."""
        folder = self.folder(run_id)
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            raise MnistvizError(f"could not delete run {run_id} entirely: check the runs folder's permissions")


def _read_json(path: Path):
    try:
        return runfiles.read_json(path)
    except FileNotFoundError as error:
        raise MnistvizError(f"{path.name} is missing") from error
    except (OSError, ValueError, RecursionError) as error:  # RecursionError: JSON nested thousands deep
        raise MnistvizError(f"{path.name} is unreadable ({type(error).__name__})") from error


_parsed = BoundedCache(size=1024)  # (file, inode, mtime, size) -> its checked content: a listing parses none twice


def _epochs(path: Path) -> list[dict]:
    """The epoch rows of a history.json (none if there is no file yet), parsed once per version of the file.

    Every write replaces the file by a rename, so a new version has a new inode and mtime.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise MnistvizError(f"{path.name} is unreadable ({error.strerror})") from error
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return list(_parsed.get_or_compute(key, lambda: runfiles.epochs(_read_json(path))))  # each caller its own list


def _predictions(path: Path, count: int | None = None) -> np.ndarray | None:
    """test_predictions.npy checked (once per version of the file), None when there is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise MnistvizError(f"{path.name} is unreadable ({error.strerror})") from error
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return _parsed.get_or_compute((*key, count), lambda: _read_predictions(path, count))


def _read_predictions(path: Path, count: int | None) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(runfiles.read_bytes(path)), allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise MnistvizError(f"{path.name} is unreadable ({error})") from error
    if not isinstance(array, np.ndarray):
        raise MnistvizError(f"{path.name} holds several arrays, not one")
    array = runfiles.predictions(array, count)
    array.setflags(write=False)  # shared by every session
    return array


def _spec(value) -> RunSpec:
    if not isinstance(value, dict):
        raise MnistvizError(f"spec.json holds {type(value).__name__}, not the settings of a run")
    try:
        return RunSpec.from_dict(value)
    except MnistvizError as error:
        raise MnistvizError(f"spec.json: {error}") from error
    except TypeError as error:  # a missing architecture or data variant
        raise MnistvizError(f"spec.json lacks a setting ({error})") from error
