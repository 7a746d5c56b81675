"""The training process of one run: on this machine (forked by launcher.py) or on a Ray worker.

The dashboard never trains: it creates a queued run's folder and starts this in a process of its own
(`executors.py`), then reads what it writes. The run's folder is the whole conversation:
progress.jsonl a few times a second and a heartbeat in status.json from here, a `stop` file from the
dashboard. A crash or `kill -9` here costs this run only; the weights of its last saved epoch stay.
`mnistviz train` trains through `train_run` too, in its own process.
"""

import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.runs.progress import FLUSH_SECONDS, PROGRESS_FILE, ProgressLog
from mnistviz.runs.store import HEARTBEAT_SECONDS, RunStore

NICENESS = 10  # local training yields the CPU to the dashboard: a student's drawing answers first (launcher.py)
PARENT_GONE = "the dashboard that started it stopped"


def train_run(
    store: RunStore,
    run_id: str,
    stop: threading.Event,
    executor: str = "local",
    observers: Sequence = (),
    lost: Callable[[], str] = lambda: "",
) -> ProgressLog:
    """Train queued run `run_id` in this process, logging its progress; returns that progress when it has ended.

    Stops at the next batch when `stop` is set, when the run's `stop` file appears, or when `lost()`
    names a reason (the process that started this one is gone): then it keeps its epochs and says
    "interrupted" with that reason.
    """
    from mnistviz.training import fit  # TensorFlow loads here, in the training process

    spec = store.load(run_id).spec
    if spec is None:
        raise MnistvizError(f"run {run_id} has no readable settings")
    progress = ProgressLog(run_id, spec.epochs, store.folder(run_id) / PROGRESS_FILE)
    ended = threading.Event()
    reason: list[str] = []

    def keep_in_touch() -> None:
        beat = time.monotonic()
        while not ended.wait(FLUSH_SECONDS):
            progress.flush()
            why = lost()
            if why and not reason:
                reason.append(why)
                stop.set()
            if store.stop_requested(run_id):
                stop.set()
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                store.heartbeat(run_id)
                beat = time.monotonic()

    thread = threading.Thread(target=keep_in_touch, name=f"progress-{run_id}", daemon=True)
    thread.start()
    try:
        status = fit.execute(spec, run_id, store, progress, stop, observers, executor)
        if reason and status == "stopped":
            store.write_status(run_id, "interrupted", error=reason[0])
            progress.finish("interrupted", reason[0], progress.snapshot().test_accuracy)
        elif status == "stopped" and (why := store.stop_reason(run_id)):  # the dashboard's, not a user's Stop
            store.write_status(run_id, "stopped", error=why)
            progress.finish("stopped", why, progress.snapshot().test_accuracy)
    finally:
        ended.set()
        thread.join()
        progress.flush()
    return progress


def bound_threads() -> None:
    """Give TensorFlow at most MNISTVIZ_TF_THREADS threads per operation in this training process (0: no bound)."""
    threads = config.tf_threads()
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)


def run_in_this_process(
    runs: str, run_id: str, executor: str = "local", server_gone: Callable[[], bool] | None = None
) -> str:
    """Train as a process of its own; its status when it ended.

    A local run (`server_gone` given) stops on SIGTERM and is interrupted once `server_gone()` says the
    dashboard went; a Ray task is the cluster's to schedule and stop.
    """
    stop = threading.Event()
    if server_gone is not None:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    bound_threads()

    def lost() -> str:
        return PARENT_GONE if server_gone is not None and server_gone() else ""

    return train_run(RunStore(runs), run_id, stop, executor, lost=lost).snapshot().status


def train_local(runs: str, run_id: str, server_gone: Callable[[], bool]) -> int:
    """A local run's training process (forked by launcher.py): exit code 0 once the run has ended, however
    it ended; 2 if there was no run to train."""
    try:
        run_in_this_process(runs, run_id, "local", server_gone)
    except MnistvizError as error:  # the run's folder went away or was never a run: nothing to train
        print(f"mnistviz worker: {error}", file=sys.stderr)
        return 2
    return 0
