"""Results computed per run in the background (shift maps, the lab's measures): the saved ones, tasks for the rest.

Every page asks the same question of such results: which runs have them saved, which are being
computed (by this session or another), and which still need a task. One shape answers it for all.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mnistviz.runs.store import RunRecord
from mnistviz.training.tasks import Task, TaskRunner

Result = TypeVar("Result")
Report = Callable[[float], None]


@dataclass
class RunResults(Generic[Result]):
    """One kind of result for some runs: those saved, the runs still without, and the tasks computing them."""

    ready: dict[str, Result]
    missing: list[RunRecord]
    tasks: dict[str, Task]
    key: Callable[[str], Hashable]  # the task key of a run's computation: equal keys are computed once
    compute: Callable[[str, Report], Result]  # computes and saves a run's result, reporting progress 0..1

    @property
    def computing(self) -> list[Task]:
        return [task for task in self.tasks.values() if not task.done.is_set()]

    def compute_missing(self, runner: TaskRunner) -> None:
        """Start (or join) a background task for every run without a saved result."""
        for record in self.missing:
            run_id = record.run_id
            self.tasks[run_id] = runner.submit(
                self.key(run_id), lambda report, run_id=run_id: self.compute(run_id, report)
            )


def gather(
    runner: TaskRunner,
    records: list[RunRecord],
    cached: Callable[[RunRecord], Result | None],
    key: Callable[[str], Hashable],
    compute: Callable[[str, Report], Result],
) -> RunResults[Result]:
    """What is known of these runs' results (runs without a model have none); the missing ones' tasks, if started."""
    ready, missing, tasks = {}, [], {}
    for record in records:
        if not record.has_model:
            continue
        saved = cached(record)
        if saved is not None:
            ready[record.run_id] = saved
            continue
        missing.append(record)
        task = runner.get(key(record.run_id))
        if task is not None:
            tasks[record.run_id] = task
    return RunResults(ready, missing, tasks, key, compute)
