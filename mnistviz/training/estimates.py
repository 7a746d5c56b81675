"""How long a run will take on this server, estimated from the runs it already trained.

A teacher planning a lesson needs minutes, not samples per second. The speed of earlier runs of the
same model on the same data (the same batch size if there is one) predicts the next; each epoch's
measured seconds include its validation. Without such a run there is no honest estimate: None.
"""

import math

import numpy as np

from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunRecord

STEP_SECONDS = 0.0015  # the least a batch of training or validation takes here: an MLP at batch size 1 took 3 ms
CHECK_DIGITS = 5_000  # the validation digits every epoch ends with (half of MNIST's test set)


def samples_per_second(spec: RunSpec, records: list[RunRecord]) -> float | None:
    """The median measured speed of finished or stopped runs like `spec` (the same model, input and data;
    the same batch size preferred)."""
    alike = [
        record
        for record in records
        if record.spec is not None
        and (record.spec.model_name, record.spec.view, record.spec.data) == (spec.model_name, spec.view, spec.data)
        and record.status in ("finished", "stopped")
        and record.samples_per_second
    ]
    same_batch = [record for record in alike if record.spec.batch_size == spec.batch_size]
    chosen = same_batch or alike
    return float(np.median([record.samples_per_second for record in chosen])) if chosen else None


def least_seconds(spec: RunSpec) -> float:
    """The fewest seconds `spec` can train for here, whatever its model: every batch costs at least
    STEP_SECONDS. A small batch size is what makes a run take hours (an MLP at batch size 1: 253 s an epoch)."""
    steps = math.ceil(spec.train_size / spec.batch_size) + math.ceil(CHECK_DIGITS / spec.batch_size)
    return spec.epochs * steps * STEP_SECONDS


def run_seconds(spec: RunSpec, records: list[RunRecord]) -> float | None:
    """Seconds to train `spec` at the speed measured for runs like it, never less than `least_seconds`;
    None when no run like it has trained here yet."""
    speed = samples_per_second(spec, records)
    if speed is None:
        return None
    return max(spec.epochs * spec.train_size / speed, least_seconds(spec))


def seconds_for(specs: list[RunSpec], records: list[RunRecord]) -> float | None:
    """Seconds to train all of `specs` one after the other; None when any of them has no measured speed."""
    total = 0.0
    for spec in specs:
        seconds = run_seconds(spec, records)
        if seconds is None:
            return None
        total += seconds
    return total


def minutes_text(seconds: float | None) -> str:
    """'about 4 min', 'under a minute', or '' when unknown: the words a button or sentence adds."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "under a minute"
    return f"about {round(seconds / 60)} min"


def duration_text(seconds: float) -> str:
    """'40 s', '23 min', '5.4 h': a run's length in the unit a reader takes in at once."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 120 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def over_budget(spec: RunSpec, records: list[RunRecord], budget_seconds: float) -> str:
    """Why a student may not queue `spec` for its length, and what to lower; "" when it fits the budget.

    Estimated at the speed measured here for runs like it; with none yet, at least `least_seconds`.
    """
    measured = run_seconds(spec, records)
    seconds = measured if measured is not None else least_seconds(spec)
    if seconds <= budget_seconds:
        return ""
    fitting = math.floor(budget_seconds / (seconds / spec.epochs))
    lower = f"lower the epochs to {fitting} or fewer" if fitting >= 1 else "raise the batch size"
    return (
        f"{spec.label} would train for {'about' if measured is not None else 'at least'} {duration_text(seconds)} "
        f"on this server, and a student's run may take at most {duration_text(budget_seconds)}: {lower}, or train "
        "on fewer digits (the teacher's runs have no time limit)"
    )
