"""Peak memory of one process that loads the offset data and trains one offset-CNN epoch.

Run in a fresh process per measurement (bench/run.py does): peak RSS never goes down.
"""

import json
import os
import resource
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _peak_mb() -> float:
    """This process's own peak resident memory (VmHWM).

    Not `getrusage(...).ru_maxrss`: Linux carries the forking parent's resident size over an exec into
    it, so a child of a big benchmark process reported the parent's 5.3 GB, whatever the child did.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: not Linux, no such carry-over


def notebook_epoch(count: int) -> None:
    """The notebook: float64 offset fields for the training digits and the 10,000 holdout ones, then fit."""
    from bench import notebook
    from mnistviz.learning import data

    raw = data.load_mnist()
    x_train = notebook.offset_data(raw.x_train[:count]).reshape(-1, 56, 56, 1)
    x_test = notebook.offset_data(raw.x_test).reshape(-1, 56, 56, 1)
    val_index, _ = data.holdout_split(len(raw.y_test))
    model = notebook.cnn(56)
    model.fit(
        x_train,
        raw.y_train[:count],
        batch_size=256,
        epochs=1,
        validation_data=(x_test[val_index], raw.y_test[val_index]),
        verbose=0,
    )


def mnistviz_epoch(count: int) -> None:
    """One epoch as a training process trains it (`worker.train_run`), in this process so its peak is measured."""
    import threading

    from mnistviz.learning.spec import RunSpec
    from mnistviz.runs.store import RunStore
    from mnistviz.training import worker

    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(folder)
        worker.train_run(store, store.create(RunSpec("cnn", "offset", epochs=1, train_size=count)), threading.Event())


def main(which: str, count: int) -> None:
    {"notebook": notebook_epoch, "mnistviz": mnistviz_epoch}[which](count)
    print(json.dumps({"which": which, "peak_mb": _peak_mb()}))
