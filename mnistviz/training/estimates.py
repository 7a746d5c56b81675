"""How long a run will take on this server, estimated from the runs it already trained.

A teacher planning a lesson needs minutes, not samples per second. The speed of earlier runs of the
same model on the same data (the same batch size if there is one) predicts the next; each epoch's
measured seconds include its validation. Without such a run there is no honest estimate: None.
"""

import numpy as np

from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunRecord


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


def seconds_for(specs: list[RunSpec], records: list[RunRecord]) -> float | None:
    """Seconds to train all of `specs` one after the other; None when any of them has no measured speed."""
    total = 0.0
    for spec in specs:
        speed = samples_per_second(spec, records)
        if speed is None:
            return None
        total += spec.epochs * spec.train_size / speed
    return total


def minutes_text(seconds: float | None) -> str:
    """'about 4 min', 'under a minute', or '' when unknown: the words a button or sentence adds."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "under a minute"
    return f"about {round(seconds / 60)} min"
