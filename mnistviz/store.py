"""Runs on disk: one folder per run, every file replaced atomically.

runs/<run_id>/spec.json         the RunSpec
runs/<run_id>/status.json       status, timing, the pid of the process that trains it
runs/<run_id>/history.json      per-epoch and per-batch metrics, rewritten after every epoch
                                (listing runs reads only its epochs, cached until the file changes)
runs/<run_id>/model.keras       the weights after the last finished epoch, then the final model
runs/<run_id>/evaluation.json   test accuracy and parameter count
runs/<run_id>/test_predictions.npy  the predicted digit of every test image
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnistviz import config
from mnistviz.cache import BoundedCache
from mnistviz.errors import MnistvizError
from mnistviz.spec import RunSpec

STATUSES = ("queued", "running", "finished", "stopped", "failed", "interrupted", "damaged")
ACTIVE = ("queued", "running")
RUN_ID = re.compile(r"^\d{8}-\d{6}-(mlp|cnn)-(centered|offset)-[0-9a-f]{6}$")
MODEL_FILE = "model.keras"


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

    @property
    def has_model(self) -> bool:
        return (self.folder / MODEL_FILE).is_file()

    @property
    def model_path(self) -> Path:
        return self.folder / MODEL_FILE

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
            "status": self.status,
            "arch": spec.arch if spec else None,
            "data": spec.data if spec else None,
            "epochs": spec.epochs if spec else None,
            "epochs_done": self.epochs_done,
            "batch_size": spec.batch_size if spec else None,
            "learning_rate": spec.learning_rate if spec else None,
            "train_size": spec.train_size if spec else None,
            "seed": spec.seed if spec else None,
            "augment_shift": spec.augment_shift if spec else None,
            "params": self.evaluation.get("params"),
            "val_accuracy": self.val_accuracy,
            "best_val_accuracy": self.best_val_accuracy,
            "test_accuracy": self.test_accuracy,
            "seconds_per_epoch": self.seconds_per_epoch,
            "samples_per_second": self.samples_per_second,
            "created": self.timing.get("created"),
            "error": self.error or None,
        }


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
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


def _process_start(pid: int) -> str | None:
    """A token that tells a live process from a later one with the same pid (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _process_alive(pid: int | None, start: str | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start is None or _process_start(pid) in (None, start)


class RunStore:
    """The runs directory: creating, updating, listing and deleting runs."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else config.runs_dir()
        self._unsaved: dict[str, dict] = {}  # statuses the disk refused: this process still reports them

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MnistvizError(f"cannot create the runs directory {self.root}: {error.strerror}") from error
        if not os.access(self.root, os.W_OK):
            raise MnistvizError(
                f"the runs directory {self.root} is not writable: set MNISTVIZ_RUNS to a writable folder"
            )

    def folder(self, run_id: str) -> Path:
        """The folder of `run_id`; ids never come from user text, and are checked to be sure."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise MnistvizError(f"'{run_id}' is not a run id")
        return self.root / run_id

    def create(self, spec: RunSpec) -> str:
        """Make the folder of a new queued run and return its generated id."""
        self._ensure_root()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_id = f"{stamp}-{spec.arch}-{spec.data}-{secrets.token_hex(3)}"
        folder = self.root / run_id
        try:
            folder.mkdir()
            atomic_write_json(folder / "spec.json", spec.to_dict())
            self.write_status(run_id, "queued", created=time.time())
        except (OSError, MnistvizError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            self._unsaved.pop(run_id, None)
            reason = error.__cause__ if isinstance(error, MnistvizError) and error.__cause__ else error
            raise MnistvizError(
                f"cannot save a new run in {self.root} ({getattr(reason, 'strerror', None) or reason}): "
                "free some disk space or set MNISTVIZ_RUNS to a writable folder with room"
            ) from error
        return run_id

    def write_status(self, run_id: str, status: str, **fields) -> None:
        """Replace status.json, keeping earlier timing fields; records which process owns the run."""
        path = self.folder(run_id) / "status.json"
        current = {}
        if path.is_file():
            try:
                current = json.loads(path.read_text())
            except (OSError, ValueError):
                current = {}
        pid = os.getpid()
        current.update(fields, status=status, pid=pid, process_start=_process_start(pid), updated=time.time())
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
                handle, temporary = tempfile.mkstemp(dir=folder, prefix=".pred.", suffix=".npy")
                os.close(handle)
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
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".model.", suffix=".keras")
            os.close(handle)
            try:
                model.save(temporary)
                os.replace(temporary, folder / MODEL_FILE)
            finally:
                Path(temporary).unlink(missing_ok=True)

    def history(self, run_id: str) -> dict:
        """A run's whole history, per batch and per epoch; empty before its first epoch or when unreadable."""
        path = self.folder(run_id) / "history.json"
        try:
            history = _read_json(path)
        except MnistvizError:
            return {"epochs": [], "batches": []}
        return history if isinstance(history, dict) else {"epochs": [], "batches": []}

    def test_predictions(self, run_id: str) -> np.ndarray | None:
        path = self.folder(run_id) / "test_predictions.npy"
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def load(self, run_id: str) -> RunRecord:
        """Read one run; a missing or corrupt file makes it 'damaged' with the reason."""
        folder = self.folder(run_id)
        if not folder.is_dir():
            raise MnistvizError(f"there is no run '{run_id}' in {self.root}")
        record = RunRecord(run_id=run_id, folder=folder, status="damaged")
        try:
            record.spec = RunSpec.from_dict(_read_json(folder / "spec.json"))
            status = self._unsaved.get(run_id) or _read_json(folder / "status.json")
            record.epochs = _epochs(folder / "history.json")
            evaluation_path = folder / "evaluation.json"
            if evaluation_path.exists():
                record.evaluation = _read_json(evaluation_path)
        except (MnistvizError, TypeError, KeyError) as error:
            record.error = str(error)
            return record
        record.status = status.get("status", "damaged")
        record.error = status.get("error", "")
        record.timing = {key: status.get(key) for key in ("created", "started", "ended")}
        if record.status in ACTIVE and not _process_alive(status.get("pid"), status.get("process_start")):
            record.status = "interrupted"
        return record

    def list(self) -> list[RunRecord]:
        """All runs, newest first; folders that are not runs are ignored."""
        if not self.root.is_dir():
            return []
        ids = sorted((p.name for p in self.root.iterdir() if p.is_dir() and RUN_ID.match(p.name)), reverse=True)
        return [self.load(run_id) for run_id in ids]

    def delete(self, run_id: str) -> None:
        shutil.rmtree(self.folder(run_id), ignore_errors=True)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise MnistvizError(f"{path.name} is missing") from error
    except (OSError, ValueError) as error:
        raise MnistvizError(f"{path.name} is unreadable ({error})") from error


_epoch_rows = BoundedCache(
    size=512
)  # (history.json, inode, mtime, size) -> its epoch rows: listing runs parses none twice


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
    return list(_epoch_rows.get_or_compute(key, lambda: _epoch_rows_of(path)))  # each caller its own list


def _epoch_rows_of(path: Path) -> tuple[dict, ...]:
    history = _read_json(path)
    epochs = history.get("epochs", []) if isinstance(history, dict) else None
    if not isinstance(epochs, list) or not all(isinstance(row, dict) for row in epochs):
        raise MnistvizError(f"{path.name} holds no list of epoch rows")
    return tuple(epochs)
