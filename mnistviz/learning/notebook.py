"""The teaching notebook's four models: their cells, their settings, their reference accuracies.

Pages and the CLI compare every run with these; the saved run of each cell with the best validation
accuracy stands for it.
"""

import math

from mnistviz.learning.data import VARIANTS
from mnistviz.learning.spec import ARCHITECTURES, RunSpec
from mnistviz.runs.store import RunRecord

VAL_ACCURACY = {  # validation accuracy the notebook reached after 20 epochs
    ("mlp", "centered"): 0.9826,
    ("cnn", "centered"): 0.9918,
    ("mlp", "offset"): 0.8926,
    ("cnn", "offset"): 0.9814,
}


DEVIATIONS = (  # where the tool differs from the notebook: (what, the notebook, mnistviz); the README has them all
    ("offset CNN's last layer", "Dense(100), a mistake", "Dense(10)"),
    ("float arrays", "the whole set as float64", "uint8, scaled to float32 a batch at a time"),
    (
        "class preset (Home's button)",
        "20 epochs each, batch 1024 (MLP) or 256 (CNN), learning rate 0.001",
        "MLP centered 3 epochs, CNN centered 2, MLP offset 5, CNN offset 3; batch 128 (MLP offset 256); learning "
        "rate 0.001 (MLPs) or 0.002 (CNNs) with cosine decay to zero",
    ),
    (
        "Shift Lab grid",
        "the notebook's four models, 20 epochs on 60,000 digits",
        "ten runs of 2 epochs on 16,000 centered digits, batch 128, learning rate 0.001, seed 0 (the teacher adds "
        "seeds)",
    ),
    (
        "Shift Lab models",
        "Flatten head, `valid` convolutions on 56x56, max pooling",
        "also a global max pooling head, `same` padding, blur pooling, and the flatten CNN given the whole field",
    ),
    ("the 2x2 matrix and Draw's models", "one run each", "the run with the best validation accuracy of each cell"),
)


def cells() -> list[tuple[str, str]]:
    """The four notebook models as (arch, data), in the order the lesson shows them."""
    return [(arch, data) for data in VARIANTS for arch in ARCHITECTURES]


def cell_spec(arch: str, data: str) -> RunSpec:
    """The notebook's settings for one of its four models."""
    return RunSpec(arch=arch, data=data)


def best_runs(records: list[RunRecord]) -> dict[tuple[str, str], RunRecord]:
    """Per (arch, data), the tested finished or stopped run whose model has the best validation accuracy.

    Chosen on validation, not test, accuracy: the pages report the chosen run's test accuracy, which
    would be flattered by picking the luckiest of many runs on the test set itself. A run without a
    validation accuracy comes after every run with one; of equals, the newest wins. Runs trained with
    shift augmentation and the Shift Lab's variants are left out: they are the experiment, not the
    notebook's model.
    """
    best: dict[tuple[str, str], RunRecord] = {}
    for record in records:
        if record.spec is None or record.test_accuracy is None or not record.spec.notebook_model:
            continue
        if record.status not in ("finished", "stopped"):
            continue
        key = (record.spec.arch, record.spec.data)
        if key not in best or _choice_order(record) > _choice_order(best[key]):
            best[key] = record
    return best


def _choice_order(record: RunRecord) -> tuple:
    """How runs of one cell rank: by their model's validation accuracy, then the newest (run ids begin with the time)."""
    val_accuracy = record.model_val_accuracy
    known = val_accuracy is not None and not math.isnan(val_accuracy)  # history.json may hold NaN (a diverged run)
    return (known, val_accuracy if known else 0.0, record.timing.get("created") or 0.0, record.run_id)


def last_failures(records: list[RunRecord]) -> dict[tuple[str, str], RunRecord]:
    """Per (arch, data), the newest run of that notebook model when it failed: what its card must say instead
    of "Not trained yet" (offline with no MNIST, the class preset's four runs failed in 0.3 s, unseen)."""
    newest: dict[tuple[str, str], RunRecord] = {}
    for record in records:  # newest first, as `RunStore.list` gives them
        if record.spec is not None and record.spec.notebook_model:
            newest.setdefault((record.spec.arch, record.spec.data), record)
    return {key: record for key, record in newest.items() if record.status == "failed"}


def cells_in_training(jobs: list) -> dict[tuple[str, str], object]:
    """Per (arch, data), the first active job (running before queued) that trains that notebook model."""
    busy = {}
    for job in jobs:
        if job.spec.notebook_model:
            busy.setdefault((job.spec.arch, job.spec.data), job)
    return busy
