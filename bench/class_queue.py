"""A class of thirty on one queue: how many trainings run, how long the class waits, how far the chart lags.

Thirty sessions press the class preset at the same moment and a few of them ask for a run of their
own; each session is a different owner on the dashboard's job manager, exactly as the pages submit
(`reuse`, the per-student limit). Measured with local training processes and with a Ray cluster of
two one-core workers on the loopback address. The chart's lag is the time from a batch in the
training process to its arrival in the dashboard's live progress (through the run's progress.jsonl).

    python -m bench.class_queue [--sessions 30] [--distinct 3] [--train-size N] [--modes local ray]
"""

import argparse
import contextlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mnistviz.learning.presets import preset_specs
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore


@dataclass
class ClassResult:
    mode: str
    sessions: int
    asked: int  # runs the sessions asked for, counting every press
    trained: int  # runs that trained
    seconds: float  # from the presses to the last run's end
    lag: list[float]  # seconds from a batch in a training process to the dashboard

    def row(self) -> str:
        lag = f"{np.percentile(self.lag, 50):.2f} / {np.percentile(self.lag, 95):.2f} / {max(self.lag):.2f} s"
        return (
            f"| {self.mode} | {self.sessions} | {self.asked} | {self.trained} | {self.seconds / 60:.1f} min | {lag} |"
        )


def class_specs(train_size: int | None) -> list[RunSpec]:
    """The class preset, on fewer digits if asked (a quicker measurement of the same queue)."""
    specs = preset_specs("class")
    return [replace(spec, train_size=train_size) for spec in specs] if train_size else specs


def press(manager, sessions: int, distinct: int, specs: list[RunSpec]) -> int:
    """Every session presses the preset at once; the first `distinct` sessions each ask for a run of their own."""
    barrier = threading.Barrier(sessions)
    asked = []

    def session(n: int) -> None:
        barrier.wait()
        owner = f"student-{n}"
        manager.submit_all(specs, owner=owner, limit=len(specs) + 1, reuse=True)
        asked.append(len(specs))
        if n < distinct:
            manager.submit(replace(specs[0], seed=100 + n), owner=owner, limit=len(specs) + 1, reuse=True)
            asked.append(1)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(asked)


def measure(
    mode: str, sessions: int, distinct: int, specs: list[RunSpec], runs: Path, address: str = ""
) -> ClassResult:
    from mnistviz.training.jobs import JobManager

    if mode == "local":
        manager = JobManager(RunStore(runs))
    else:
        from mnistviz.training.ray_executor import RayTasks

        manager = JobManager(RunStore(runs), RayTasks(address))
    started = time.monotonic()
    asked = press(manager, sessions, distinct, specs)
    for job in list(manager.active()):
        manager.wait(job.run_id)
    while manager.active():  # runs queued behind the first ones
        manager.wait(manager.active()[0].run_id)
    seconds = time.monotonic() - started
    trained = len(RunStore(runs).list())
    lag = list(manager.delays)
    return ClassResult(mode, sessions, asked, trained, seconds, lag)


def run(sessions: int, distinct: int, train_size: int | None, modes: list[str]) -> list[ClassResult]:
    specs = class_specs(train_size)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for mode in modes:
            runs = Path(folder) / mode
            if mode == "local":
                results.append(measure(mode, sessions, distinct, specs, runs))
                continue
            from tests.ray_cluster import LOOPBACK, local_cluster

            os.environ.update(LOOPBACK)
            import ray

            with local_cluster(Path(folder) / "ray-head.log", cpus=2) as address:
                try:
                    results.append(measure(mode, sessions, distinct, specs, runs, address))
                finally:
                    with contextlib.suppress(Exception):
                        ray.shutdown()
    return results


def table(results: list[ClassResult]) -> str:
    head = "| queue | sessions | runs asked for | trainings | wall time | chart lag p50 / p95 / max |\n"
    head += "| --- | --- | --- | --- | --- | --- |\n"
    return head + "\n".join(result.row() for result in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--distinct", type=int, default=3, help="sessions that also ask for a run of their own")
    parser.add_argument("--train-size", type=int, default=None, help="digits per run (default: the preset's)")
    parser.add_argument("--modes", nargs="+", choices=("local", "ray"), default=["local", "ray"])
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    results = run(args.sessions, args.distinct, args.train_size, args.modes)
    print(table(results))


if __name__ == "__main__":
    main()
