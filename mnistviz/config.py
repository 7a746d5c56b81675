"""Every environment variable mnistviz reads, read in one place."""

import math
import os
from pathlib import Path


def data_path() -> Path | None:
    """An explicit MNIST .npz from MNISTVIZ_DATA, or None to use Keras' cache or download."""
    value = os.environ.get("MNISTVIZ_DATA", "").strip()
    return Path(value).expanduser() if value else None


def runs_dir() -> Path:
    """Where runs live: MNISTVIZ_RUNS, default ./runs."""
    return Path(os.environ.get("MNISTVIZ_RUNS", "runs")).expanduser()


def keras_cache_path() -> Path:
    """Where keras.datasets.mnist.load_data() caches the download."""
    keras_home = os.environ.get("KERAS_HOME", str(Path.home() / ".keras"))
    return Path(keras_home).expanduser() / "datasets" / "mnist.npz"


def max_concurrent_jobs() -> int:
    """How many training runs may train at once (MNISTVIZ_JOBS, default 1)."""
    try:
        return max(1, int(os.environ.get("MNISTVIZ_JOBS", "1")))
    except ValueError:
        return 1


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def tf_threads() -> int:
    """TensorFlow's threads per operation (MNISTVIZ_TF_THREADS); 0 leaves TensorFlow's default, every core.

    The default keeps one core free, so that a training run cannot starve the pages and the
    Draw predictions of every other session (bench/latency.py measures the difference).
    """
    default = max(1, cores() - 1)
    try:
        return max(0, int(os.environ.get("MNISTVIZ_TF_THREADS", default)))
    except ValueError:
        return default


def teacher_passcode() -> str | None:
    """MNISTVIZ_TEACHER_PASSCODE as set, blank included; None only when it is not set at all.

    (Then .streamlit/secrets.toml is asked; access.PasscodeSetting decides what a value means.)
    """
    return os.environ.get("MNISTVIZ_TEACHER_PASSCODE")


def runs_per_student() -> int:
    """How many runs one browser session may have training or waiting at once (MNISTVIZ_RUNS_PER_STUDENT, default 4).

    Four: the class preset queues the notebook's four models at once.
    """
    try:
        return max(1, int(os.environ.get("MNISTVIZ_RUNS_PER_STUDENT", "4")))
    except ValueError:
        return 4


def runs_per_address() -> int:
    """How many runs one client address may have training or waiting at once (MNISTVIZ_RUNS_PER_ADDRESS, default 6).

    A student who clears the owner cookie is a new student to the per-student limit, but comes from the
    same address; six leaves room for two students sharing a computer.
    """
    try:
        return max(1, int(os.environ.get("MNISTVIZ_RUNS_PER_ADDRESS", "6")))
    except ValueError:
        return 6


def student_minutes() -> float:
    """The longest a student's run may be estimated to train, in minutes (MNISTVIZ_STUDENT_MINUTES, default 15).

    One legal run (an MLP for 200 epochs at batch size 1) would hold the only trainer for 14 hours.
    """
    try:
        minutes = float(os.environ.get("MNISTVIZ_STUDENT_MINUTES", "15"))
    except ValueError:
        return 15.0
    return minutes if math.isfinite(minutes) and minutes > 0 else 15.0


def ray_address() -> str | None:
    """The Ray cluster that trains the runs (MNISTVIZ_RAY_ADDRESS: host:port, or "auto"); None trains in local processes."""
    address = os.environ.get("MNISTVIZ_RAY_ADDRESS", "").strip()
    return address or None


def ray_cpus_per_job() -> int:
    """Cores each run asks the cluster for, and TensorFlow's threads in it (MNISTVIZ_RAY_CPUS, default 1)."""
    try:
        return max(1, int(os.environ.get("MNISTVIZ_RAY_CPUS", "1")))
    except ValueError:
        return 1
