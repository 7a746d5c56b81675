"""What each file of a run folder may hold, checked by type and range whenever it is read.

Anything in a run folder may have been written by an older version, cut short by a crash, or edited
by hand: it is untrusted. Each reader here returns clean values or raises MnistvizError saying what is
wrong, in words that name the file; the store then shows that one run as damaged and lists the rest.
"""

import json
import math
import zipfile
from pathlib import Path

import numpy as np

from mnistviz.errors import MnistvizError
from mnistviz.runs.curves import PER_BATCH, RUNNING_MEAN

STATUSES = ("queued", "running", "finished", "stopped", "failed", "interrupted", "damaged")
MAX_PID = 2**22  # Linux's largest process id; anything else is not a process of this machine
TIMES = ("created", "started", "ended", "updated", "heartbeat")
KB, MB = 1024, 1024 * 1024
MOST_BYTES = {  # the most each file of a run folder ever needs: anything larger is damage, never read
    "spec.json": 64 * KB,
    "status.json": 64 * KB,
    "evaluation.json": 64 * KB,
    "pinned.json": 64 * KB,
    "stop": 4 * KB,  # why the dashboard asked the run to stop, if it said
    "history.json": 8 * MB,  # 200 epoch rows and at most 4,000 batch rows: under 1 MB
    "test_predictions.npy": 1 * MB,  # one byte per test digit
    "model.keras": 128 * MB,  # the largest model, the MLP on the 56x56 field with its optimizer, is about 20 MB
}
MOST_BYTES_OTHER = 8 * MB  # the cached results (shift maps, measures): a step-1 map of 841 shifts is under 100 kB


def most_bytes(path: Path) -> int:
    return MOST_BYTES.get(path.name, MOST_BYTES_OTHER)


def check_size(path: Path) -> None:
    """Refuse a file larger than its kind ever needs before anything reads it (a MnistvizError)."""
    limit = most_bytes(path)
    if path.stat().st_size > limit:
        _fail(path.name, f"is larger than such a file ever is (over {limit // KB:,} kB): not read")


def read_bytes(path: Path) -> bytes:
    """A run file's bytes, read no further than its kind ever needs; a larger file is a MnistvizError."""
    limit = most_bytes(path)
    with path.open("rb") as file:  # read at most one byte past the limit, even if the file grows meanwhile
        content = file.read(limit + 1)
    if len(content) > limit:
        _fail(path.name, f"is larger than such a file ever is (over {limit // KB:,} kB): not read")
    return content


def read_json(path: Path):
    """A run folder's JSON file, bounded by `read_bytes`; FileNotFoundError, OSError or ValueError as json raises."""
    return json.loads(read_bytes(path))


def _fail(file: str, message: str):
    raise MnistvizError(f"{file} {message}")


def _object(value, file: str) -> dict:
    if not isinstance(value, dict):
        _fail(file, f"holds {type(value).__name__}, not an object of named values")
    return value


def _number(value, file: str, name: str, low: float = -math.inf, high: float = math.inf, finite: bool = True):
    """A float within [low, high], or None when absent; NaN passes when `finite` is False (a diverged loss)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(file, f"has {name} {str(value)[:40]!r}, not a number")
    try:
        value = float(value)
    except OverflowError:  # a whole number of hundreds of digits
        _fail(file, f"has {name} far out of range")
    if math.isnan(value) and not finite:
        return value
    if not math.isfinite(value) or not low <= value <= high:
        _fail(file, f"has {name} {value!r}, outside {low:g}..{high:g}")
    return value


def _whole(value, file: str, name: str, low: int = 0, high: int | None = None):
    """An int within [low, high], or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(file, f"has {name} {value!r}, not a whole number")
    if value < low or (high is not None and value > high):
        _fail(file, f"has {name} {value}, outside {low}..{high if high is not None else 'any'}")
    return value


def _text(value, file: str, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        _fail(file, f"has {name} {value!r}, not text")
    return value


EXECUTORS = ("local", "ray")  # where a run trains: a process of this machine, or a Ray cluster's worker


def status(value) -> dict:
    """status.json: the status, who trains it (pid, process start), timing, the error of a failed run.

    A pid that is not a whole number of this machine's range is no process: the run cannot be alive.
    """
    file = "status.json"
    value = _object(value, file)
    state = value.get("status")
    if state not in STATUSES:
        _fail(file, f"has status {state!r}, not one of {', '.join(STATUSES)}")
    pid = value.get("pid")
    valid_pid = isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid <= MAX_PID
    start = value.get("process_start")
    clean = {
        "status": state,
        "pid": pid if valid_pid else None,
        "process_start": start if isinstance(start, str) else None,
        "error": _text(value.get("error"), file, "error"),
        "owner": value.get("owner") if isinstance(value.get("owner"), str) else None,
        "executor": value.get("executor") if value.get("executor") in EXECUTORS else "local",
        "host": value.get("host") if isinstance(value.get("host"), str) and len(value["host"]) <= 255 else None,
    }
    for name in (*TIMES, "imported"):  # imported: when it came in a bundle (runs/bundle.py)
        clean[name] = _number(value.get(name), file, name, low=0)
    return clean


_EPOCH_NUMBERS = {"loss": (0, math.inf), "accuracy": (0, 1), "val_loss": (0, math.inf), "val_accuracy": (0, 1)}


def epoch_row(value, file: str = "history.json") -> dict:
    row = _object(value, f"{file} (an epoch row)")
    clean = {"epoch": _whole(row.get("epoch"), file, "epoch", low=1)}
    if clean["epoch"] is None:
        _fail(file, "has an epoch row without its epoch number")
    for name, (low, high) in _EPOCH_NUMBERS.items():
        clean[name] = _number(row.get(name), file, name, low, high, finite=False)
    clean["seconds"] = _number(row.get("seconds"), file, "seconds", low=0)
    clean["samples"] = _whole(row.get("samples"), file, "samples")
    complete = row.get("complete", True)
    if not isinstance(complete, bool):
        _fail(file, f"has complete {complete!r}, not true or false")
    clean["complete"] = complete
    return clean


def batch_row(value, file: str = "history.json") -> dict:
    row = _object(value, f"{file} (a batch row)")
    return {
        "epoch": _whole(row.get("epoch"), file, "epoch", low=1),
        "step": _whole(row.get("step"), file, "step", low=1),
        "samples_seen": _whole(row.get("samples_seen"), file, "samples seen"),
        "seconds": _number(row.get("seconds"), file, "seconds", low=0),
        "loss": _number(row.get("loss"), file, "loss", 0, math.inf, finite=False),
        "accuracy": _number(row.get("accuracy"), file, "accuracy", 0, 1, finite=False),
    }


def _rows(value, file: str, key: str) -> list:
    rows = _object(value, file).get(key, [])
    if not isinstance(rows, list):
        _fail(file, f"has {key} {type(rows).__name__}, not a list of rows")
    return rows


def epochs(value) -> tuple[dict, ...]:
    """The epoch rows of history.json, in order."""
    rows = tuple(epoch_row(row) for row in _rows(value, "history.json", "epochs"))
    if [row["epoch"] for row in rows] != list(range(1, len(rows) + 1)):
        _fail("history.json", "has epoch rows out of order")
    return rows


def history(value) -> dict:
    """The whole of history.json: epoch rows, batch rows, and what the batch rows hold (earlier versions: running means)."""
    batch_values = _object(value, "history.json").get("batch_values", RUNNING_MEAN)
    if batch_values not in (PER_BATCH, RUNNING_MEAN):
        _fail("history.json", f"has batch values {str(batch_values)[:40]!r}, not {PER_BATCH!r} or {RUNNING_MEAN!r}")
    return {
        "epochs": list(epochs(value)),
        "batches": [batch_row(row) for row in _rows(value, "history.json", "batches")],
        "batch_values": batch_values,
    }


def evaluation(value) -> dict:
    """evaluation.json: test accuracy, parameters, how many test digits."""
    file = "evaluation.json"
    value = _object(value, file)
    return {
        "test_accuracy": _number(value.get("test_accuracy"), file, "test_accuracy", 0, 1),
        "params": _whole(value.get("params"), file, "params"),
        "test_size": _whole(value.get("test_size"), file, "test_size"),
    }


def predictions(array: np.ndarray, count: int | None = None) -> np.ndarray:
    """test_predictions.npy: one digit 0..9 per test image (`count` of them, when known)."""
    file = "test_predictions.npy"
    if array.ndim != 1 or array.dtype.kind not in "iu":
        _fail(file, f"holds {array.dtype} values of shape {array.shape}, not one whole number per test digit")
    if count is not None and len(array) != count:
        _fail(file, f"holds {len(array)} predictions for {count} test digits")
    if len(array) and (array.min() < 0 or array.max() > 9):
        _fail(file, "holds predictions outside 0..9")
    return array


MODEL_CONFIG_BYTES = 1_000_000  # a saved model's config.json is a few kB; a larger one is no model of ours


def blur_reflects(model_file: Path) -> bool:
    """Whether every BlurPool2D of a saved model pads its blur by reflection, as today's blur pooling does.

    Blur models saved before (zero padding) load as they were trained, but are not the model a `pool="blur"`
    spec now describes. Reads only the archive's config.json, at most MODEL_CONFIG_BYTES of it; anything
    unreadable or odd answers False.
    """
    try:
        with zipfile.ZipFile(model_file) as archive:
            if archive.getinfo("config.json").file_size > MODEL_CONFIG_BYTES:
                return False
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile, EOFError):
        return False
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return False
    blurs = [layer for layer in layers if isinstance(layer, dict) and layer.get("class_name") == "BlurPool2D"]
    return bool(blurs) and all(
        isinstance(layer.get("config"), dict) and layer["config"].get("edges") == "reflect" for layer in blurs
    )
