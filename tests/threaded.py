"""An executor for tests whose data or training is replaced in this process: each run trains in a thread here.

It runs the very `worker.train_run` a training process runs, progress file and stop file included; only
the process boundary is left out (tests/test_executors.py crosses it with real processes).
"""

import threading
from pathlib import Path

from mnistviz.runs.store import RunStore
from mnistviz.training import worker


class TrainingThread:
    def __init__(self, store: RunStore, run_id: str):
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=worker.train_run, args=(store, run_id, self.stop), name=f"test-train-{run_id}", daemon=True
        )
        self.thread.start()

    def exit_code(self) -> int | None:
        return None if self.thread.is_alive() else 0

    def kill(self) -> None:
        self.stop.set()
        self.thread.join(30)


class ThreadExecutor:
    """Trains in threads, into `store` when given (a test that replaces one of its methods), else a store of its own."""

    name = "local"

    def __init__(self, slots: int = 1, store: RunStore | None = None):
        self.slots, self.store = slots, store

    def start(self, runs: Path, run_id: str) -> TrainingThread:
        return TrainingThread(self.store or RunStore(runs), run_id)
