"""How long a run will take on this server, estimated from the runs it already trained.

A teacher planning a lesson needs minutes, not samples per second. An epoch of an earlier run of the
same model on the same data (the same batch size if there is one) predicts the next one's, scaled by
the work in it: each training digit costs a forward and a backward pass (about three predictions),
and every epoch ends with validating 5,000 digits, whatever the run's size. Without such a run there is
no honest estimate: None, and only a lower bound (`least_seconds`) for the time budget.
"""

import math

import numpy as np

from mnistviz.learning.spec import LIMITS, RunSpec
from mnistviz.runs.store import RunRecord

STEP_SECONDS = 0.0015  # the least a batch of training or validation takes here: an MLP at batch size 1 took 3 ms
CHECK_DIGITS = 5_000  # the validation digits every epoch ends with (half of MNIST's test set)
TRAINING_COST = 3  # predictions' worth of work per training digit: a forward and a backward pass
MOST_MULTIPLY_ADDS_PER_SECOND = 60e9  # the fastest seen here (the offset MLP); the CNNs ran at 19-45e9


def _work(train_size: int) -> int:
    """An epoch's work, in predictions: its training digits, then its validation."""
    return TRAINING_COST * train_size + CHECK_DIGITS


def epoch_seconds(spec: RunSpec, records: list[RunRecord]) -> float | None:
    """An epoch of `spec` at the pace measured for finished or stopped runs like it (the same model, input and
    data; the same batch size preferred), scaled by the work in it.

    Only the largest of those runs count: a tiny run's fixed costs, scaled up, made an ordinary run look
    ten times longer (a student could block the class's default runs with two 1-second runs). Never an
    imported run: it trained elsewhere.
    """
    alike = [
        record
        for record in records
        if record.spec is not None
        and (record.spec.model_name, record.spec.view, record.spec.data) == (spec.model_name, spec.view, spec.data)
        and record.status in ("finished", "stopped")
        and record.seconds_per_epoch
        and record.imported is None  # trained on another machine: says nothing of this server's pace
    ]
    chosen = [record for record in alike if record.spec.batch_size == spec.batch_size] or alike
    if not chosen:
        return None
    largest = max(record.spec.train_size for record in chosen)
    chosen = [record for record in chosen if record.spec.train_size * 2 >= largest]
    return float(
        np.median(
            [record.seconds_per_epoch * _work(spec.train_size) / _work(record.spec.train_size) for record in chosen]
        )
    )


def least_seconds(spec: RunSpec) -> float:
    """The fewest seconds `spec` can train for here, whatever was measured: every batch costs at least
    STEP_SECONDS (a small batch size is what makes a run take hours: an MLP at batch size 1, 253 s an epoch),
    and every digit its model's multiply-adds at the fastest pace seen here."""
    from mnistviz.learning import models  # Keras: only where a run is about to be queued, never in `mnistviz runs`

    compute = _work(spec.train_size) * models.multiply_adds(spec) / MOST_MULTIPLY_ADDS_PER_SECOND
    return max(batches_seconds(spec), spec.epochs * compute)


def batches_seconds(spec: RunSpec) -> float:
    """The least time `spec`'s batches take at STEP_SECONDS each, whatever is in them."""
    steps = math.ceil(spec.train_size / spec.batch_size) + math.ceil(CHECK_DIGITS / spec.batch_size)
    return spec.epochs * steps * STEP_SECONDS


def run_seconds(spec: RunSpec, records: list[RunRecord]) -> float | None:
    """Seconds to train `spec` at the pace measured for runs like it, never less than `least_seconds`;
    None when no run like it has trained here yet."""
    epoch = epoch_seconds(spec, records)
    if epoch is None:
        return None
    return max(spec.epochs * epoch, least_seconds(spec))


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
    ways = [f"lower the epochs to {fitting} or fewer" if fitting >= 1 else "lower the epochs"]
    if spec.batch_size < LIMITS["batch_size"][1] and batches_seconds(spec) >= 0.5 * seconds:  # the batches cost it
        ways.append("raise the batch size")
    ways.append("train on fewer digits")
    return (
        f"{spec.label} would train for {'about' if measured is not None else 'at least'} {duration_text(seconds)} "
        f"on this server, and a student's run may take at most {duration_text(budget_seconds)}: "
        f"{', '.join(ways[:-1])} or {ways[-1]} (the teacher's runs have no time limit)"
    )
