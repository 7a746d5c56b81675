"""Which saved models answer on the Draw page: a class makes dozens of runs, a page shows a few.

By default the teacher's pinned runs, then the best run of each of the notebook's four cells (chosen
on validation accuracy, as everywhere: `notebook.best_runs`); a student adds or removes any run with
a model. Pure: the page and its tests call it alike.
"""

from dataclasses import dataclass

from mnistviz import display, notebook
from mnistviz.store import RunRecord

FALLBACK = 4  # with no notebook model saved yet, the newest runs shown by default


@dataclass(frozen=True)
class DrawChoices:
    """The runs a student may pick (run id -> label, newest first) and those shown until they do."""

    options: dict[str, str]
    default: list[str]


def draw_choices(records: list[RunRecord], pinned: list[str]) -> DrawChoices:
    """Every run with a model file, labelled so that runs of one name are told apart, and the default pick."""
    usable = [record for record in records if record.has_model]
    options = {record.run_id: display.run_label(record) for record in usable}
    default = [run_id for run_id in pinned if run_id in options]
    best = notebook.best_runs(usable)
    for cell in notebook.cells():
        if cell in best and best[cell].run_id not in default:
            default.append(best[cell].run_id)
    if not default:
        default = list(options)[:FALLBACK]
    return DrawChoices(options, default)


def feature_model_index(kinds: list[tuple[str, str]]) -> int:
    """Which of the shown models' (arch, data) the feature maps open on: a CNN (offset first), else the first.

    An MLP's first layer has no maps to show, only a grid of grey squares.
    """
    for wanted in (("cnn", "offset"), ("cnn", "centered")):
        if wanted in kinds:
            return kinds.index(wanted)
    return 0
