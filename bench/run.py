"""All benchmarks in one run: `python -m bench [--quick] [--json]`.

Speed is reported as a ratio against the notebook's own code (bench/notebook.py) measured in the
same process run on the same data: absolute seconds on a shared machine vary from run to run.
"""

import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from bench import notebook
from bench.turns import Turns
from mnistviz.analysis import drawing, predictor, shift_maps, shifts
from mnistviz.learning import data, field
from mnistviz.learning.notebook import VAL_ACCURACY
from mnistviz.learning.presets import preset_specs
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.progress import RunProgress
from mnistviz.runs.store import RunStore
from mnistviz.training import fit
from mnistviz.training.executors import LocalProcesses
from mnistviz.training.jobs import JobManager

CONFIGS = [("mlp", "centered"), ("cnn", "centered"), ("mlp", "offset"), ("cnn", "offset")]


@dataclass(frozen=True)
class Scale:
    """How much work each benchmark does."""

    train_digits: int
    mlp_epochs: int  # per side in the throughput benchmark; the first is warm-up, the rest are measured
    cnn_epochs: int
    memory_digits: int
    drawings: int
    position_drawings: int
    shift_step: int = shifts.DEFAULT_STEP
    shift_samples: int = shifts.DEFAULT_SAMPLES
    class_preset: bool = False  # train the four class-preset models on all the data (minutes)


FULL = Scale(
    train_digits=60000,
    mlp_epochs=12,
    cnn_epochs=5,
    memory_digits=60000,
    drawings=200,
    position_drawings=20,
    class_preset=True,
)
QUICK = Scale(train_digits=6000, mlp_epochs=4, cnn_epochs=3, memory_digits=6000, drawings=50, position_drawings=5)
TINY = Scale(
    train_digits=1024,
    mlp_epochs=2,
    cnn_epochs=2,
    memory_digits=600,
    drawings=3,
    position_drawings=1,
    shift_step=7,
    shift_samples=20,
)


@dataclass
class Row:
    """One line of the table."""

    benchmark: str
    notebook: str
    mnistviz: str
    ratio: str
    target: str
    met: bool | None

    def markdown(self) -> str:
        met = {True: "yes", False: "**no**", None: "-"}[self.met]
        return f"| {self.benchmark} | {self.notebook} | {self.mnistviz} | {self.ratio} | {self.target} | {met} |"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Throughput:
    """Seconds of the steady epochs (all but the first) of the two sides, epoch i of each taken in turn.

    Medians, not sums: a stretch in which the machine runs at half speed can land on either side of
    a pair and would otherwise decide the comparison.
    """

    digits: int
    notebook: list[float]
    mnistviz: list[float]

    def samples_per_second(self, side: str) -> float:
        return self.digits / float(np.median(getattr(self, side)))

    @property
    def epoch_ratios(self) -> list[float]:
        """mnistviz's throughput over the notebook's for each pair of epochs trained one after the other."""
        return [theirs / ours for theirs, ours in zip(self.notebook, self.mnistviz, strict=True)]

    @property
    def ratio(self) -> float:
        return float(np.median(self.epoch_ratios))


def notebook_fit(arch: str, variant: str, count: int, epochs: int, timer: keras.callbacks.Callback) -> None:
    """The notebook's fit on float64 arrays."""
    raw = data.load_mnist()
    val_index, _ = data.holdout_split(len(raw.y_test))
    x_val = raw.x_test[val_index]
    if variant == "centered":
        x_train, x_val = notebook.centered_data(raw.x_train[:count], x_val)
    else:
        x_train, x_val = notebook.offset_data(raw.x_train[:count]), notebook.offset_data(x_val)
    size = x_train.shape[1]
    if arch == "cnn":
        x_train, x_val = x_train.reshape(-1, size, size, 1), x_val.reshape(-1, size, size, 1)
    keras.utils.set_random_seed(0)
    model = notebook.BUILDERS[arch](size)
    model.fit(
        x_train,
        raw.y_train[:count],
        batch_size=notebook.BATCH_SIZE[arch],
        epochs=epochs,
        validation_data=(x_val, raw.y_test[val_index]),
        callbacks=[timer],
        verbose=0,
    )


def mnistviz_fit(arch: str, variant: str, count: int, epochs: int, runs: Path, timer: keras.callbacks.Callback) -> None:
    """mnistviz's own training of a run: live progress published every batch, weights saved every 10 s."""
    store = RunStore(runs)
    spec = RunSpec(arch, variant, epochs=epochs, train_size=count)
    run_id = store.create(spec)
    status = fit.execute(spec, run_id, store, RunProgress(run_id, epochs), threading.Event(), observers=[timer])
    if status != "finished":
        raise RuntimeError(f"mnistviz's {arch} {variant} run {status}: {store.load(run_id).error}")


def throughput(arch: str, variant: str, count: int, epochs: int, runs: Path) -> Throughput:
    """The notebook's and mnistviz's training of one config, in two threads taking turns epoch by epoch."""
    turns = Turns()
    timers = [turns.timer(0), turns.timer(1)]
    sides = [
        (notebook_fit, (arch, variant, count, epochs, timers[0])),
        (mnistviz_fit, (arch, variant, count, epochs, runs, timers[1])),
    ]
    errors = []

    def train(side: int) -> None:
        function, args = sides[side]
        try:
            function(*args)
        except Exception as error:  # reported after both threads end, so neither waits forever
            errors.append(error)
        finally:
            turns.finish(side)

    threads = [threading.Thread(target=train, args=(side,), name=f"bench-side-{side}") for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return Throughput(count, timers[0].seconds[1:], timers[1].seconds[1:])


def peak_memory_mb(which: str, count: int) -> float:
    """Peak RSS of a fresh process that loads the offset data and trains one offset-CNN epoch."""
    code = f"import bench.memory as m; m.main({which!r}, {count})"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]


def canvas_drawings(count: int, seed: int = 0) -> list[np.ndarray]:
    """Real test digits placed at random shifts, as the 280x280 RGBA canvas delivers a drawing."""
    test = data.load_variant("centered")
    rng = np.random.default_rng(seed)
    drawings = []
    for index in rng.choice(len(test.x_test), size=count, replace=False):
        dx, dy = rng.integers(-8, 9, size=2)
        placed = field.place(test.x_test[index : index + 1], int(dx), int(dy))[0]
        big = np.kron(placed, np.ones((5, 5), np.uint8))
        rgba = np.stack([big, big, big, np.full_like(big, 255)], axis=-1)
        drawings.append(rgba)
    return drawings


def four_models(runs: Path) -> RunStore:
    """Four briefly trained notebook models (accuracy does not change their speed), all four at once."""
    manager = JobManager(RunStore(runs), LocalProcesses(len(CONFIGS)))
    jobs = [manager.submit(RunSpec(arch, variant, epochs=1, train_size=2048)) for arch, variant in CONFIGS]
    for job in jobs:
        manager.wait(job.run_id)
    return manager.store


def latency(store: RunStore, count: int) -> tuple[list[float], list[float]]:
    """Seconds from canvas pixels to the four predictions: mnistviz, and the notebook's `model.predict` per model."""
    models, _ = predictor.saved_models(store)
    drawings = canvas_drawings(count)
    ours, theirs = [], []
    for rgba in drawings:
        start = time.perf_counter()
        predictor.predict_all(drawing.canvas_to_field(rgba), models=models)
        ours.append(time.perf_counter() - start)
    for rgba in drawings[: max(3, count // 5)]:
        start = time.perf_counter()
        drawn = drawing.canvas_to_field(rgba)
        for saved in models:
            image = field.model_view(drawn, saved.view).astype(np.float64) / 255.0
            x = image[None, ..., None] if saved.arch == "cnn" else image[None]
            saved.model.predict(x, verbose=0)
        theirs.append(time.perf_counter() - start)
    return ours, theirs


def position_map_seconds(store: RunStore, count: int) -> list[float]:
    """Seconds for the position maps of one drawing for all four models."""
    models, _ = predictor.saved_models(store)
    seconds = []
    for rgba in canvas_drawings(count, seed=1):
        start = time.perf_counter()
        drawn = drawing.canvas_to_field(rgba)
        moves = shifts.positions(drawn)
        batch = shifts.moved_fields(drawn, moves)
        for saved in models:
            shifts.position_map(saved.probabilities, saved.view, drawn, 0, moves, batch)
        seconds.append(time.perf_counter() - start)
    return seconds


def shift_map_seconds(store: RunStore, step: int, samples: int) -> float:
    run_id = next(r.run_id for r in store.list() if r.spec.arch == "cnn" and r.spec.data == "offset")
    start = time.perf_counter()
    shift_maps.compute_shift_map(store, run_id, step, samples)
    return time.perf_counter() - start


def class_preset_rows(notebook_epoch_seconds: float, runs: Path) -> list[Row]:
    """Train the class preset's four models; compare time and accuracy with the notebook's protocol."""
    manager = JobManager(RunStore(runs))
    start = time.perf_counter()
    records = []
    for spec in preset_specs("class"):
        _log(f"class preset: {spec.label}...")
        job = manager.submit(spec)
        manager.wait(job.run_id)
        records.append(manager.store.load(job.run_id))
    seconds = time.perf_counter() - start
    protocol = notebook.EPOCHS * notebook_epoch_seconds
    rows = [
        Row(
            "class preset: all four models, wall time (s)",
            f"{protocol:,.0f} (20 epochs x measured epoch times)",
            f"{seconds:,.0f}",
            f"{seconds / protocol:.2f}x",
            "<= 0.25x",
            seconds <= protocol / 4,
        )
    ]
    for record in records:
        key = (record.spec.arch, record.spec.data)
        reference = VAL_ACCURACY[key]
        allowed = 0.02 if key == ("mlp", "offset") else 0.01
        value = record.best_val_accuracy or 0.0
        rows.append(
            Row(
                f"class preset: {record.spec.arch.upper()} {record.spec.data}, validation accuracy",
                f"{reference:.2%} (notebook, 20 epochs)",
                f"{value:.2%} in {record.epochs_done} epochs",
                "-",
                f">= {reference - allowed:.2%}",
                value >= reference - allowed,
            )
        )
    return rows


def run(quick: bool = False, scale: Scale | None = None) -> list[Row]:
    """Every benchmark; returns the table's rows."""
    scale = scale or (QUICK if quick else FULL)
    rows = []
    notebook_epoch_seconds = 0.0
    count = scale.train_digits
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder)
        for arch, variant in CONFIGS:
            _log(f"throughput {arch} {variant}: notebook and mnistviz taking turns...")
            epochs = scale.mlp_epochs if arch == "mlp" else scale.cnn_epochs
            measured = throughput(arch, variant, count, epochs, runs / "throughput")
            theirs, ours = measured.samples_per_second("notebook"), measured.samples_per_second("mnistviz")
            notebook_epoch_seconds += data.load_mnist().x_train.shape[0] / theirs
            pairs = measured.epoch_ratios
            rows.append(
                Row(
                    f"training throughput, {arch.upper()} {variant} (samples/s)",
                    f"{theirs:,.0f}",
                    f"{ours:,.0f}",
                    f"{measured.ratio:.2f}x (median of {len(pairs)} epoch pairs, {min(pairs):.2f}-{max(pairs):.2f}x)",
                    ">= 1.0x",
                    measured.ratio >= 1.0,
                )
            )
        _log("peak memory...")
        memory_count = scale.memory_digits
        theirs, ours = peak_memory_mb("notebook", memory_count), peak_memory_mb("mnistviz", memory_count)
        rows.append(
            Row(
                f"peak memory, offset data + 1 CNN epoch on {memory_count:,} digits (MB)",
                f"{theirs:,.0f}",
                f"{ours:,.0f}",
                f"{ours / theirs:.2f}x",
                "<= 1,500 MB",
                ours <= 1500,
            )
        )
        _log("four models for the drawing benchmarks...")
        store = four_models(runs / "four")
        ours, theirs = latency(store, scale.drawings)
        p50, p95 = np.percentile(ours, 50) * 1000, np.percentile(ours, 95) * 1000
        t50, t95 = np.percentile(theirs, 50) * 1000, np.percentile(theirs, 95) * 1000
        rows.append(
            Row(
                "one drawing -> four predictions, p50 / p95 (ms)",
                f"{t50:.1f} / {t95:.1f}",
                f"{p50:.1f} / {p95:.1f}",
                f"{p95 / t95:.2f}x",
                "p95 <= 50 ms",
                p95 <= 50,
            )
        )
        seconds = position_map_seconds(store, scale.position_drawings)
        rows.append(
            Row(
                "position map of one drawing, four models, p50 / max (s)",
                "-",
                f"{np.median(seconds):.2f} / {max(seconds):.2f}",
                "-",
                "<= 1.5 s",
                max(seconds) <= 1.5,
            )
        )
        seconds = shift_map_seconds(store, scale.shift_step, scale.shift_samples)
        rows.append(
            Row(
                f"shift map of the offset CNN, step {scale.shift_step}, {scale.shift_samples} digits (s)",
                "-",
                f"{seconds:.1f}",
                "-",
                "<= 30 s",
                seconds <= 30,
            )
        )
        if scale.class_preset:
            rows += class_preset_rows(notebook_epoch_seconds, runs / "class")
    return rows


def table(rows: list[Row]) -> str:
    header = "| benchmark | notebook | mnistviz | ratio | target | met |\n|---|---|---|---|---|---|"
    return "\n".join([header, *(row.markdown() for row in rows)])


def as_json(rows: list[Row]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=1)
