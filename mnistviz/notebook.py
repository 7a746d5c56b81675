"""The teaching notebook's four models: their cells, their settings, their reference accuracies.

Pages and the CLI compare every run with these; the best saved run of each cell stands for it.
"""

from mnistviz.data import VARIANTS
from mnistviz.spec import ARCHITECTURES, RunSpec
from mnistviz.store import RunRecord

VAL_ACCURACY = {  # validation accuracy the notebook reached after 20 epochs
    ("mlp", "centered"): 0.9826,
    ("cnn", "centered"): 0.9918,
    ("mlp", "offset"): 0.8926,
    ("cnn", "offset"): 0.9814,
}


def cells() -> list[tuple[str, str]]:
    """The four notebook models as (arch, data), in the order the lesson shows them."""
    return [(arch, data) for data in VARIANTS for arch in ARCHITECTURES]


def cell_spec(arch: str, data: str) -> RunSpec:
    """The notebook's settings for one of its four models."""
    return RunSpec(arch=arch, data=data)


def best_runs(records: list[RunRecord]) -> dict[tuple[str, str], RunRecord]:
    """Per (arch, data), the finished or stopped run with the best test accuracy.

    Runs trained with shift augmentation and the Shift Lab's variants are left out: they are the
    experiment, not the notebook's model.
    """
    best: dict[tuple[str, str], RunRecord] = {}
    for record in records:
        if record.spec is None or record.test_accuracy is None or not record.spec.notebook_model:
            continue
        if record.status not in ("finished", "stopped"):
            continue
        key = (record.spec.arch, record.spec.data)
        if key not in best or record.test_accuracy > best[key].test_accuracy:
            best[key] = record
    return best


def cells_in_training(jobs: list) -> dict[tuple[str, str], object]:
    """Per (arch, data), the first active job (running before queued) that trains that notebook model."""
    busy = {}
    for job in jobs:
        if job.spec.notebook_model:
            busy.setdefault((job.spec.arch, job.spec.data), job)
    return busy
