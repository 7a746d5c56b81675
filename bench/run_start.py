"""How soon a run trains after Train is pressed: `python -m bench.run_start [--runs 3]`.

Starts a job queue as the server has it (local training processes), submits tiny MLP runs one after
another and prints, for each, the seconds from submit to its first trained batch on the dashboard. The
first run also starts the server's warm process (launcher.py); the later ones are forked from it.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mnistviz.learning.spec import RunSpec  # noqa: E402
from mnistviz.runs.store import RunStore  # noqa: E402
from mnistviz.training.jobs import JobManager  # noqa: E402


def first_batch_seconds(runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        manager = JobManager(RunStore(folder))
        seconds = []
        try:
            for seed in range(runs):
                start = time.monotonic()
                job = manager.submit(RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600, seed=seed))
                while job.snapshot().samples_seen == 0 and not job.done.is_set():
                    time.sleep(0.02)
                seconds.append(time.monotonic() - start)
                manager.wait(job.run_id)
        finally:
            manager.shut_down()
    return seconds


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.run_start", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    for run, seconds in enumerate(first_batch_seconds(parser.parse_args().runs), 1):
        print(f"run {run}: first batch {seconds:.2f} s after submit")
