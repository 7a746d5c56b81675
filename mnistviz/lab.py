"""The Shift Lab's experiment: its grid of runs, the question students answer first, and the class's guesses.

The grid reproduces the literature in minutes: the notebook's MLP and CNN, and CNNs with a global
max pooling head (Lin et al. 2014), `same` padding (Kayhan & van Gemert 2020) and blur pooling
(Zhang 2019), each trained on centered digits, and again with the digits shifted a little in
training (Azulay & Weiss 2019). Pure Python: the page lays it out, `measures.py` measures it.
"""

import threading
from dataclasses import dataclass

from mnistviz.shifts import ShiftMap
from mnistviz.spec import RunSpec
from mnistviz.store import RunRecord

SETTINGS = dict(epochs=2, train_size=16_000, batch_size=128)  # the grid in about five minutes on two cores
AUGMENT = 2  # pixels: the small shifts of the second half of the grid
MODELS = {  # the grid's models, in the lesson's order: what differs, and its CNN settings
    "MLP": ("mlp", {}),
    "CNN": ("cnn", {}),
    "CNN-gmp": ("cnn", {"head": "gmp"}),
    "CNN-gmp-same": ("cnn", {"head": "gmp", "padding": "same"}),
    "CNN-gmp-same-blur": ("cnn", {"head": "gmp", "padding": "same", "pool": "blur"}),
}
AUGMENTED = ("MLP", "CNN", "CNN-gmp-same", "CNN-gmp-same-blur")  # trained again with shifts
HELP = {  # one line per CNN setting, for the Train form
    "head": "Flatten reads each feature at a fixed place; global max or average pooling reads it anywhere and "
    "takes the whole 56x56 field (Lin et al. 2014). See the Shift Lab.",
    "padding": "The notebook's `valid` convolutions cut off the field's last rows and columns; `same` keeps them "
    "(Kayhan & van Gemert 2020).",
    "pool": "Blur pooling blurs before it subsamples, so a one-pixel move changes less (Zhang 2019).",
}
CORNER = (12, 12)  # "a digit in the corner": moved 12 px right and 12 px down
KEEPS = 0.85  # a model still reads a moved digit if it keeps this share of its accuracy in the middle


@dataclass(frozen=True)
class Cell:
    """One run of the grid: its model, whether it saw shifted digits, and its exact settings."""

    model: str
    augment: int
    spec: RunSpec

    @property
    def title(self) -> str:
        return f"{self.model}, shifted ±{self.augment} px" if self.augment else self.model


def grid() -> list[Cell]:
    """The lab's runs: every model on centered digits, then the augmented ones."""
    cells = []
    for augment, names in ((0, tuple(MODELS)), (AUGMENT, AUGMENTED)):
        for name in names:
            arch, variant = MODELS[name]
            spec = RunSpec(arch, "centered", augment_shift=augment, **SETTINGS, **variant, name=_name(name, augment))
            cells.append(Cell(name, augment, spec))
    return cells


def _name(model: str, augment: int) -> str:
    return f"Lab {model}" + (f" ±{augment}px" if augment else "")


def grid_runs(records: list[RunRecord]) -> dict[Cell, RunRecord]:
    """Each grid cell's newest finished run with exactly its settings (whatever its name).

    Not a stopped one: a run stopped after a batch would be the class's answer with an untrained model.
    """
    out = {}
    for cell in grid():
        alike = [
            record
            for record in records
            if record.spec == cell.spec and record.status == "finished" and record.has_model
        ]
        if alike:
            out[cell] = max(alike, key=lambda record: (record.timing.get("created") or 0, record.run_id))
    return out


def untrained(records: list[RunRecord]) -> list[RunSpec]:
    """The grid's settings with neither a finished run nor one queued or training: what the teacher's button trains."""
    runs = grid_runs(records)
    busy = {record.spec for record in records if record.status in ("queued", "running")}
    return [cell.spec for cell in grid() if cell not in runs and cell.spec not in busy]


def keeps_reading(shift_map: ShiftMap, move: tuple[int, int] = CORNER) -> bool:
    """Whether a model still reads digits moved by `move`: it keeps KEEPS of its accuracy in the middle."""
    return shift_map.at(*move) >= KEEPS * shift_map.at(0, 0)


class Guesses:
    """The class's answers to the lab's question, one per browser session, shared by every page of the server.

    Thread-safe; bounded (a session that answers again replaces its answer; at most `limit` sessions).
    """

    def __init__(self, limit: int = 500):
        self._lock = threading.Lock()
        self._answers: dict[str, frozenset[str]] = {}
        self._limit = limit

    def record(self, session: str, models) -> None:
        """Keep a session's guess: the grid models it thinks still read a digit in the corner (others ignored)."""
        chosen = frozenset(model for model in models if model in MODELS)
        with self._lock:
            if session not in self._answers and len(self._answers) >= self._limit:
                return
            self._answers[session] = chosen

    def of(self, session: str) -> frozenset[str] | None:
        with self._lock:
            return self._answers.get(session)

    def tally(self) -> tuple[int, dict[str, int]]:
        """How many answered, and how many of them named each model."""
        with self._lock:
            answers = list(self._answers.values())
        return len(answers), {model: sum(model in answer for answer in answers) for model in MODELS}

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


def table_rows(runs: dict[Cell, RunRecord], measured: dict, maps: dict[str, ShiftMap]) -> list[dict]:
    """One row per trained grid cell with its measures: what the lab's table shows and its sentences use.

    `measured` and `maps` are by run id; a cell is left out until both its measures and a shift map
    holding the middle and the corner are ready.
    """
    rows = []
    for cell, record in runs.items():
        measures, shift_map = measured.get(record.run_id), maps.get(record.run_id)
        if measures is None or shift_map is None or not {(0, 0), CORNER} <= set(shift_map.shifts):
            continue
        middle = shift_map.at(0, 0)
        corner = shift_map.at(*CORNER) / middle if middle > 0 else 0.0
        seconds = sum(epoch.get("seconds") or 0 for epoch in record.epochs)
        rows.append(
            {
                "model": cell.model,
                "augment": cell.augment,
                "title": cell.title,
                "run_id": record.run_id,
                "centered": measures.centered,
                "anywhere": measures.anywhere,
                "corner": corner,
                "consistency": measures.consistency.one_pixel,
                "params": record.evaluation.get("params"),
                "seconds": seconds or None,
            }
        )
    return rows


def outcome(maps_by_model: dict[str, ShiftMap]) -> dict[str, bool]:
    """For each grid model trained on centered digits whose shift map is known: does it still read the corner?"""
    return {model: keeps_reading(shift_map) for model, shift_map in maps_by_model.items()}


def score(guess: frozenset[str], outcomes: dict[str, bool]) -> int:
    """How many models the guess got right (named and reads the corner, or not named and does not)."""
    return sum((model in guess) == reads for model, reads in outcomes.items())


def guess_sentence(guess: frozenset[str]) -> str:
    """The guess a student locked in, in the lesson's order of the models, as one sentence."""
    named = [model for model in MODELS if model in guess]
    if not named:
        return "Your guess: **none** of the models will still read a digit in the corner."
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"Your guess: **{listed}** will still read a digit in the corner; the others will not."


CLASS_GUESSES = Guesses()  # the server's one class: every session of this process answers here
