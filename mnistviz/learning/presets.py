"""Named settings for the notebook's four models.

`notebook` is the notebook's protocol (20 epochs each). `class` is tuned for time to accuracy on a
2-core laptop: each model gets within a point of the notebook's validation accuracy (the offset
MLP within two) in a quarter of the notebook protocol's time; `python -m bench` measures it.
"""

from mnistviz.learning.notebook import cells
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunRecord

KEPT = ("queued", "running", "finished", "stopped")  # a run in one of these states need not be trained again

PRESETS = ("notebook", "class")

CLASS_SETTINGS = {
    ("mlp", "centered"): dict(epochs=3, batch_size=128, learning_rate=1e-3, lr_schedule="cosine"),
    ("cnn", "centered"): dict(epochs=2, batch_size=128, learning_rate=2e-3, lr_schedule="cosine"),
    ("mlp", "offset"): dict(epochs=5, batch_size=256, learning_rate=1e-3, lr_schedule="cosine"),
    ("cnn", "offset"): dict(epochs=3, batch_size=128, learning_rate=2e-3, lr_schedule="cosine"),
}


def preset_specs(preset: str) -> list[RunSpec]:
    """The four runs of a preset, in the lesson's order."""
    if preset == "notebook":
        return [RunSpec(arch, data) for arch, data in cells()]
    if preset == "class":
        return [
            RunSpec(arch, data, name=f"{arch.upper()} {data} (class)", **CLASS_SETTINGS[(arch, data)])
            for arch, data in cells()
        ]
    raise ValueError(f"unknown preset {preset!r}")


def not_yet_trained(specs: list[RunSpec], records: list[RunRecord]) -> list[RunSpec]:
    """The specs with no queued, running, finished or stopped run of exactly those settings.

    Pressing a preset twice must not queue its runs twice: a failed or interrupted run is trained again.
    """
    present = {record.spec for record in records if record.spec is not None and record.status in KEPT}
    return [spec for spec in specs if spec not in present]
