"""Every environment variable mnistviz reads, read in one place."""

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
