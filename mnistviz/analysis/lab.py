"""The Shift Lab's experiment: its grid of runs, the question students answer first, and the class's guesses.

The grid reproduces the literature in minutes: the notebook's MLP and CNN (they see the 28x28
window), the same CNN given the whole field (the control: it differs from CNN-gmp only in its head),
and CNNs with a global max pooling head (Lin et al. 2014), `same` padding (the border effect, Kayhan &
van Gemert 2020) and blur pooling (Zhang 2019), each trained on centered digits, and again with the
digits shifted a little in training (Azulay & Weiss 2019). Each neighbour in `MODELS` differs from
the one it is compared with in one variable (`COMPARISONS`). The teacher may train the grid again
with other seeds; the table then shows each cell's mean and range. Pure Python: the page lays it out,
`measures.py` measures it.
"""

import dataclasses
import statistics
import threading
from dataclasses import dataclass

from mnistviz.analysis.shifts import ShiftMap
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunRecord

SETTINGS = dict(epochs=2, train_size=16_000, batch_size=128)  # the grid in about six minutes on two cores
AUGMENT = 2  # pixels: the small shifts of the second half of the grid
MODELS = {  # the grid's models, in the lesson's order: its architecture and settings
    "MLP": ("mlp", {}),
    "CNN": ("cnn", {}),
    "CNN-field": ("cnn", {"input": "field"}),
    "CNN-gmp": ("cnn", {"head": "gmp"}),
    "CNN-gmp-same": ("cnn", {"head": "gmp", "padding": "same"}),
    "CNN-gmp-same-blur": ("cnn", {"head": "gmp", "padding": "same", "pool": "blur"}),
}
COMPARISONS = {  # the one variable each pair of models differs in: what a sentence may name as a cause
    "input": ("CNN", "CNN-field"),
    "head": ("CNN-field", "CNN-gmp"),
    "padding": ("CNN-gmp", "CNN-gmp-same"),
    "pooling": ("CNN-gmp-same", "CNN-gmp-same-blur"),
}
AUGMENTED = ("MLP", "CNN", "CNN-gmp-same", "CNN-gmp-same-blur")  # trained again with shifts
HELP = {  # one line per CNN setting, for the Train form
    "head": "Flatten reads each feature at a fixed place; global max or average pooling reads it anywhere and "
    "takes the whole 56x56 field (Lin et al. 2014). See the Shift Lab.",
    "padding": "With the notebook's `valid` convolutions a pixel near any edge of the field reaches the head "
    "through far fewer paths than one inside (a border effect); `same` padding gives it more "
    "(Kayhan & van Gemert 2020).",
    "pool": "Blur pooling blurs before it subsamples, so a one-pixel move changes less (Zhang 2019).",
}
NAMES = {  # each grid model in words, for a reader meeting these models for the first time
    "MLP": "dense layers only (a multilayer perceptron), the notebook's",
    "CNN": "convolutions read out by Flatten, the notebook's",
    "CNN-field": "the notebook's CNN given the whole 56x56 field",
    "CNN-gmp": "CNN with global max pooling",
    "CNN-gmp-same": "CNN with global max pooling and same padding",
    "CNN-gmp-same-blur": "CNN with global max pooling, same padding and blur pooling",
}
GLOSSARY = {  # one plain line for each word a 15-year-old meets here first
    "field": "the 56x56 picture a moved digit lives in; the notebook's centered digits fill only its middle",
    "window": "the middle 28x28 of the field: all a model trained on centered digits is given",
    "convolution": "a small filter slid over the picture: the same detector at every place",
    "valid convolutions": "filters applied only where they fit inside the picture, so each layer's maps shrink "
    "and pixels near the edges are read by fewer filters",
    "same padding": "the picture is padded with zeros so filters fit everywhere: maps keep their size",
    "Flatten": "lays every feature at every place out in one long row: the head learns each place separately",
    "gmp (global max pooling)": "keeps each feature's strongest value wherever it is: where stops mattering",
    "max pooling": "keeps the largest of each 2x2 block, halving a map",
    "blur pooling": "blurs before it keeps every second pixel, so a one-pixel move changes the result less",
    "consistency": "the share of test digits given the same answer at two random shifts (Zhang 2019)",
    "one-pixel stability": "the share of test digits whose answer stays the same when moved one pixel",
    "seed": "the number that fixes the random start: another seed, another run of the same model",
}
CORNER = (12, 12)  # "a digit in the corner": moved 12 px right and 12 px down
KEEPS = 0.85  # a model still reads a moved digit if it keeps this share of its accuracy in the middle


def budget(seeds: int = 1, train_size: int = SETTINGS["train_size"]) -> str:
    """What every result of the grid was bought with, for the sentences that quote it."""
    runs = f"{seeds} seeds, their mean" if seeds > 1 else "one seed"
    return f"after {SETTINGS['epochs']} epochs on {train_size:,} centered digits ({runs})"


@dataclass(frozen=True)
class Cell:
    """One run of the grid: its model, whether it saw shifted digits, and its exact settings (seed included)."""

    model: str
    augment: int
    spec: RunSpec

    @property
    def title(self) -> str:
        return f"{self.model}, shifted ±{self.augment} px" if self.augment else self.model

    @property
    def seed(self) -> int:
        return self.spec.seed


def grid(seed: int = 0) -> list[Cell]:
    """The lab's runs for one seed: every model on centered digits, then the augmented ones."""
    cells = []
    for augment, names in ((0, tuple(MODELS)), (AUGMENT, AUGMENTED)):
        for name in names:
            arch, variant = MODELS[name]
            spec = RunSpec(
                arch,
                "centered",
                augment_shift=augment,
                seed=seed,
                **SETTINGS,
                **variant,
                name=_name(name, augment, seed),
            )
            cells.append(Cell(name, augment, spec))
    return cells


def _name(model: str, augment: int, seed: int) -> str:
    return f"Lab {model}" + (f" ±{augment}px" if augment else "") + (f" seed {seed}" if seed else "")


LAB_SEEDS = 10  # the grid's seeds are 0..9: a class compares a few, and no stray run can make it train hundreds


def seeds(records: list[RunRecord]) -> list[int]:
    """The seeds (0..LAB_SEEDS-1) the grid has runs of (finished, queued or training), 0 always among them."""
    shapes = {dataclasses.replace(cell.spec, seed=0) for cell in grid()}
    found = {
        record.spec.seed
        for record in records
        if record.spec is not None
        and record.status in ("finished", "queued", "running")
        and record.spec.seed < LAB_SEEDS
        and dataclasses.replace(record.spec, seed=0) in shapes
    }
    return sorted(found | {0})


def grid_runs(records: list[RunRecord]) -> dict[Cell, RunRecord]:
    """Each grid cell's newest finished run with exactly its settings (whatever its name), for every seed.

    Not a stopped one: a run stopped after a batch would be the class's answer with an untrained model.
    """
    cells = {cell.spec: cell for seed in seeds(records) for cell in grid(seed)}
    finished = [record for record in records if record.status == "finished" and record.spec in cells]
    finished = [record for record in finished if record.model_is_current]  # opens a blur run's model file only
    out = {}
    for spec, cell in cells.items():
        alike = [record for record in finished if record.spec == spec]
        if alike:
            out[cell] = max(alike, key=lambda record: (record.timing.get("created") or 0, record.run_id))
    return out


def untrained(records: list[RunRecord], seed_list: list[int] | None = None) -> list[RunSpec]:
    """The grid's settings with neither a finished run nor one queued or training: what the teacher's button trains.

    For every seed the grid already has (or those given): a seed the teacher added is completed too.
    """
    runs = grid_runs(records)
    busy = {record.spec for record in records if record.status in ("queued", "running")}
    return [
        cell.spec
        for seed in (seeds(records) if seed_list is None else seed_list)
        for cell in grid(seed)
        if cell not in runs and cell.spec not in busy
    ]


def next_seed(records: list[RunRecord]) -> int | None:
    """The seed the teacher's "add a seed" trains: the lowest the grid has not; None once it has all LAB_SEEDS."""
    free = sorted(set(range(LAB_SEEDS)) - set(seeds(records)))
    return free[0] if free else None


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


MEASURED = ("centered", "anywhere", "corner", "consistency", "stability")  # the table's measures, per seed


def table_rows(
    runs: dict[Cell, RunRecord], measured: dict, maps: dict[str, ShiftMap], multiply_adds=None
) -> list[dict]:
    """One row per trained grid run with its measures: what the lab's table and its sentences are made of.

    `measured` and `maps` are by run id; a run is left out until both its measures and a shift map
    holding the middle and the corner are ready. `multiply_adds(spec)` (`models.multiply_adds`, which
    needs Keras) adds what one digit costs the model.
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
                "seed": cell.seed,
                "view": cell.spec.view,
                "run_id": record.run_id,
                "centered": measures.centered,
                "anywhere": measures.anywhere,
                "corner": corner,
                "consistency": measures.consistency,
                "stability": measures.stability.one_pixel,
                "params": record.evaluation.get("params"),
                "multiply_adds": multiply_adds(cell.spec) if multiply_adds else None,
                "seconds": seconds or None,
            }
        )
    return rows


def comparable_rows(rows: list[dict]) -> list[dict]:
    """The rows of the seeds measured for every model the best-measured seed has, so that every mean and range is
    over the same seeds (while a seed the teacher added is still training, the table keeps to the others)."""
    measured: dict[int, set] = {}
    for row in rows:
        measured.setdefault(row["seed"], set()).add((row["model"], row["augment"]))
    if not measured:
        return []
    reference = max(measured.values(), key=len)
    return [row for row in rows if measured[row["seed"]] >= reference]


def summarize(rows: list[dict]) -> list[dict]:
    """One row per grid model (and augmentation) over its seeds: each measure's mean, and its range in `range`."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in sorted(rows, key=lambda row: row["seed"]):
        groups.setdefault((row["model"], row["augment"]), []).append(row)
    order = {(cell.model, cell.augment): i for i, cell in enumerate(grid())}
    out = []
    for key in sorted(groups, key=order.get):
        group = groups[key]
        first = group[0]
        summary = {name: first[name] for name in ("model", "augment", "title", "view", "params", "multiply_adds")}
        summary["seeds"] = [row["seed"] for row in group]
        summary["run_ids"] = [row["run_id"] for row in group]
        summary["range"] = {}
        for name in MEASURED:
            values = [row[name] for row in group]
            summary[name] = statistics.fmean(values)
            summary["range"][name] = (min(values), max(values))
        out.append(summary)
    return out


def outcome(summary: list[dict]) -> dict[str, bool]:
    """For each grid model trained on centered digits in the summary: does it still read the corner (seeds' mean)?"""
    return {row["model"]: row["corner"] >= KEEPS for row in summary if not row["augment"]}


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


def mean_map(maps: list[ShiftMap]) -> ShiftMap:
    """The seeds' shift maps of one model averaged shift by shift (maps over other shifts are left out)."""
    first = maps[0]
    alike = [shift_map for shift_map in maps if shift_map.shifts == first.shifts]
    return ShiftMap(
        first.shifts, [statistics.fmean(values) for values in zip(*(m.accuracy for m in alike), strict=True)]
    )


def seen_or_not(summary: list[dict], ink_left: float) -> dict[str, str]:
    """What each model trained on centered digits that fails in the corner saw of it: part of it, or all of it.

    A window model receives only `ink_left` of a digit's ink at the corner; a model given the whole field
    saw every pixel of the digit and failed all the same.
    """
    return {
        row["model"]: (
            f"saw only {ink_left:.0%} of the digit's ink, what is left in its window"
            if row["view"] == "window"
            else "saw the whole digit and failed"
        )
        for row in summary
        if not row["augment"] and row["corner"] < KEEPS
    }
