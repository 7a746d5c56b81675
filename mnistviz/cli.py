"""`mnistviz` (or `python -m mnistviz`): the dashboard's jobs without a browser.

With --json, stdout carries exactly one JSON document; progress always goes to stderr.
A MnistvizError prints one line and exits 2.
"""

import argparse
import json
import os
import sys

from mnistviz import config
from mnistviz.analysis.shifts import CONSISTENCY_RANGE, DEFAULT_SAMPLES, DEFAULT_STEP
from mnistviz.analysis.shifts import LIMITS as SHIFT_MAP_LIMITS
from mnistviz.errors import MnistvizError
from mnistviz.learning.field import VIEWS
from mnistviz.learning.presets import PRESETS
from mnistviz.learning.spec import (
    ARCHITECTURES,
    DEFAULT_BATCH_SIZE,
    HEADS,
    LR_SCHEDULES,
    PADDINGS,
    POOLS,
    VARIANTS,
    RunSpec,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise MnistvizError(message)


def _positive_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mnistviz", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train one run into the runs directory")
    train.add_argument("--arch", required=True, choices=ARCHITECTURES)
    train.add_argument("--data", required=True, choices=VARIANTS)
    default = RunSpec.default
    batch_sizes = ", ".join(f"{size} ({arch.upper()})" for arch, size in DEFAULT_BATCH_SIZE.items())
    train.add_argument("--epochs", type=_positive_int, default=default("epochs"))
    train.add_argument("--batch-size", type=_positive_int, default=None, help=f"default: {batch_sizes}")
    train.add_argument(
        "--lr", type=_number, default=default("learning_rate"), help="learning rate (default %(default)g)"
    )
    train.add_argument(
        "--train-size",
        type=_positive_int,
        default=default("train_size"),
        help="digits to train on (default %(default)s)",
    )
    train.add_argument("--seed", type=_positive_int, default=default("seed"))
    train.add_argument(
        "--augment-shift",
        type=_positive_int,
        default=default("augment_shift"),
        help="random shift augmentation, max pixels",
    )
    train.add_argument(
        "--lr-schedule", choices=LR_SCHEDULES, default=default("lr_schedule"), help="cosine decays to zero"
    )
    train.add_argument(
        "--patience", type=_positive_int, default=default("patience"), help="stop after N epochs without improvement"
    )
    train.add_argument("--head", choices=HEADS, default=default("head"), help="a CNN's head: gmp/gap pool globally")
    train.add_argument(
        "--padding", choices=PADDINGS, default=default("padding"), help="a CNN's padding: same keeps the field's edges"
    )
    train.add_argument("--pool", choices=POOLS, default=default("pool"), help="a CNN's pooling: blur is anti-aliased")
    train.add_argument(
        "--input",
        choices=VIEWS,
        default=None,
        help="what the model is given: the 28x28 window (the notebook's, for centered data) or the whole 56x56 field",
    )
    train.add_argument("--name", default=default("name"), help="a label for the run")
    train.add_argument(
        "--reuse",
        action="store_true",
        help="print the finished run with exactly these settings instead of training again",
    )
    train.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    train_all = commands.add_parser("train-all", help="train the notebook's four models one after the other")
    train_all.add_argument("--preset", choices=PRESETS, default="notebook", help="class: tuned to be fast")
    train_all.add_argument(
        "--reuse",
        action="store_true",
        help="print each finished run with exactly these settings instead of training again",
    )
    train_all.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    runs = commands.add_parser("runs", help="list saved runs")
    runs.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    delete = commands.add_parser("delete", help="delete saved runs (a damaged one too), never one that trains")
    delete.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    delete.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    export = commands.add_parser("export", help="pack finished runs into one bundle (a zip) to import elsewhere")
    export.add_argument("run_ids", nargs="*", metavar="RUN_ID")
    export.add_argument("--all", action="store_true", help="every finished or stopped run with a model")
    export.add_argument("--lab", action="store_true", help="the Shift Lab's grid: its finished runs, every seed")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write, e.g. lesson.zip")
    export.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    bring = commands.add_parser("import", help="bring the runs of a bundle into the runs directory (all or none)")
    bring.add_argument("bundle", metavar="FILE", help="a bundle written by mnistviz export")
    bring.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    link = commands.add_parser("teacher-link", help="print the link that unlocks a browser as the teacher")
    link.add_argument(
        "--url", default="http://localhost:8501", help="the server's address as students reach it (default %(default)s)"
    )
    link.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    predict = commands.add_parser("predict", help="every saved model's prediction for digit images")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="an image file; the whole image is the 56x56 field")
    predict.add_argument("--recenter", action="store_true", help="normalise each digit as MNIST does first")
    predict.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    robustness = commands.add_parser("robustness", help="a run's test accuracy for every shift of the digits")
    robustness.add_argument("run_id", metavar="RUN_ID")
    robustness.add_argument(
        "--step", type=_positive_int, default=DEFAULT_STEP, help="grid step in pixels (default %(default)s)"
    )
    robustness.add_argument(
        "--samples", type=_positive_int, default=DEFAULT_SAMPLES, help="test digits per shift (default %(default)s)"
    )
    robustness.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return parser


def _bar(fraction: float, width: int = 30) -> str:
    filled = int(round(fraction * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _print_progress(snapshot) -> None:
    """One carriage-returned line on stderr: bar, epoch, loss/accuracy, speed, time left."""
    last = snapshot.batches[-1] if snapshot.batches else {}
    left = snapshot.seconds_left
    parts = [
        _bar(snapshot.fraction),
        f"epoch {min(snapshot.epoch + 1, snapshot.epochs_total)}/{snapshot.epochs_total}",
        f"loss {last.get('loss', float('nan')):.4f}" if last else "starting",
        f"acc {last.get('accuracy', float('nan')):.4f}" if last else "",
        f"{snapshot.samples_per_second:,.0f} samples/s" if snapshot.samples_seen else "",
        "finishing" if snapshot.finishing else f"{left:.0f} s left" if left is not None else "",
    ]
    sys.stderr.write("\r" + "  ".join(p for p in parts if p) + "\033[K")
    sys.stderr.flush()


def command_train(args) -> dict:
    spec = RunSpec(
        arch=args.arch,
        data=args.data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        train_size=args.train_size,
        seed=args.seed,
        augment_shift=args.augment_shift,
        lr_schedule=args.lr_schedule,
        patience=args.patience,
        head=args.head,
        padding=args.padding,
        pool=args.pool,
        input=args.input,
        name=args.name,
    )
    return _train(spec, args.reuse)


def _train(spec: RunSpec, reuse: bool) -> dict:
    """Train one run and return its summary: in this process, or through the Ray cluster when one is set.

    With `reuse`, a finished run with exactly these settings is the answer, in seconds: nothing trains.
    """
    from mnistviz import config
    from mnistviz.runs.store import RunStore
    from mnistviz.training.jobs import finished_by_spec, get_manager

    if config.ray_address() is not None:
        manager = get_manager()
        return _follow_job(manager, manager.submit(spec, reuse=reuse))
    store = RunStore()
    done = finished_by_spec(store.list()).get(spec) if reuse else None
    if done is not None:
        print(f"run {done.run_id}: {spec.label}, already trained with these settings", file=sys.stderr)
        return store.load(done.run_id).summary()
    return _train_here(store, spec)


def _train_here(store, spec: RunSpec) -> dict:
    """Train in this process, as the dashboard's training processes do (worker.train_run); Ctrl-C stops it."""
    import threading

    from mnistviz.runs.progress import PROGRESS_FILE, ProgressFollower, RunProgress
    from mnistviz.training import fit, worker  # noqa: F401 - TensorFlow's start-up lines come now, not across the bar

    run_id = store.create(spec)
    stop, outcome = threading.Event(), []

    def train() -> None:
        try:
            worker.train_run(store, run_id, stop)
        except BaseException as error:  # said below, in this thread
            outcome.append(error)

    thread = threading.Thread(target=train, name=f"train-{run_id}", daemon=True)
    follower = ProgressFollower(store.folder(run_id) / PROGRESS_FILE, RunProgress(run_id, spec.epochs))
    print(f"run {run_id}: {spec.label}, {spec.epochs} epochs, batch {spec.batch_size}", file=sys.stderr)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
            follower.update()
            _print_progress(follower.progress.snapshot())
    except KeyboardInterrupt:
        stop.set()
        sys.stderr.write("\nstopping after this batch...\n")
        thread.join()
    if outcome:
        raise outcome[0]
    follower.update()
    _print_progress(follower.progress.snapshot())
    sys.stderr.write("\n")
    return _ended(store, run_id)


def _follow_job(manager, job) -> dict:
    """Draw a queued run's progress bar on stderr until it ends (Ctrl-C stops it), return its summary."""
    if job.done.is_set():
        print(f"run {job.run_id}: {job.spec.label}, already trained with these settings", file=sys.stderr)
        return manager.store.load(job.run_id).summary()
    print(f"run {job.run_id}: {job.spec.label}, {job.spec.epochs} epochs, batch {job.spec.batch_size}", file=sys.stderr)
    try:
        while not job.done.wait(0.5):
            _print_progress(job.snapshot())
    except KeyboardInterrupt:
        manager.stop(job.run_id)
        sys.stderr.write("\nstopping after this batch...\n")
        job.done.wait()
    _print_progress(job.snapshot())
    sys.stderr.write("\n")
    return _ended(manager.store, job.run_id)


def _ended(store, run_id: str) -> dict:
    record = store.load(run_id)
    if record.status == "failed":
        raise MnistvizError(f"run {run_id} failed: {record.error}")
    return record.summary()


def command_train_all(args) -> list[dict]:
    from mnistviz.learning.presets import preset_specs

    summaries = []
    for spec in preset_specs(args.preset):
        summaries.append(_train(spec, args.reuse))
        if summaries[-1]["status"] == "stopped":
            break
    return summaries


def command_robustness(args) -> dict:
    from mnistviz.runs.store import RunStore

    for name, unit in (("step", "pixels"), ("samples", "test digits")):
        low, high = SHIFT_MAP_LIMITS[name]
        if not low <= getattr(args, name) <= high:
            raise MnistvizError(f"{name} must be between {low} and {high} {unit}")
    store = RunStore()
    record = store.load(args.run_id)  # a clear error for an unknown or damaged run before TensorFlow loads
    if record.status == "damaged":
        raise MnistvizError(f"run {args.run_id} is damaged: {record.error}")
    if not record.has_model:
        raise MnistvizError(f"run {args.run_id} has no saved model yet")
    from mnistviz.analysis import shift_maps  # loads TensorFlow

    def report(fraction: float) -> None:
        sys.stderr.write(f"\r{_bar(fraction)} {fraction:.0%} of the shifts\033[K")
        sys.stderr.flush()

    from mnistviz.analysis import measures

    shift_map = shift_maps.compute_shift_map(store, args.run_id, args.step, args.samples, report)
    measured = measures.compute_measures(store, args.run_id)
    sys.stderr.write("\n")
    stability = measured.stability
    return {
        "run_id": args.run_id,
        **shift_map.to_dict(),
        "accuracy_centered": measured.centered,
        "accuracy_anywhere": measured.anywhere,
        "consistency": measured.consistency,
        "consistency_range": CONSISTENCY_RANGE,
        "one_pixel_stability": stability.one_pixel,
        "stability_by_distance": {"distances": stability.distances, "stability": stability.stability},
    }


def command_teacher_link(args) -> dict:
    """The runs folder's teacher link (made if it has none): the same one the server printed at its start."""
    from mnistviz.runs import teacher_link

    return {"teacher_link": teacher_link.link(args.url, config.runs_dir())}


def command_delete(args) -> list[str]:
    """Check every id first (all or nothing), then delete those runs' folders."""
    from mnistviz.runs.store import ACTIVE, RunStore

    store = RunStore()
    records = [store.load(run_id) for run_id in dict.fromkeys(args.run_ids)]
    busy = [record.run_id for record in records if record.status in ACTIVE]
    if busy:
        raise MnistvizError(f"{', '.join(busy)} still trains or waits to: stop it first; nothing was deleted")
    for record in records:
        store.delete(record.run_id)
    return [record.run_id for record in records]


def command_export(args) -> dict:
    """Pack the named runs (and those --all or --lab add) into one bundle; all or nothing."""
    from mnistviz.analysis import lab
    from mnistviz.runs import bundle
    from mnistviz.runs.store import RunStore

    store = RunStore()
    run_ids = list(args.run_ids)
    if args.all or args.lab:
        records = store.list()
        if args.all:
            run_ids += [record.run_id for record in records if bundle.exportable(record) is None]
        if args.lab:
            run_ids += [record.run_id for record in lab.grid_runs(records).values()]
        if not run_ids:
            raise MnistvizError("no finished runs to export" + (" in the Shift Lab's grid" if args.lab else ""))
    exported = bundle.export_runs(store, run_ids, args.output)
    return {"bundle": args.output, "runs": exported, "bytes": os.path.getsize(args.output)}


def command_import(args) -> list[dict]:
    """Bring a bundle's runs in (all or none), then list them as `mnistviz runs` does."""
    from mnistviz.runs import bundle
    from mnistviz.runs.store import RunStore

    store = RunStore()
    if not os.path.isfile(args.bundle):
        raise MnistvizError(f"there is no file {args.bundle!r}")
    return [store.load(run_id).summary() for run_id in bundle.import_bundle(store, args.bundle)]


def command_runs(args) -> list[dict]:
    from mnistviz.runs.store import RunStore

    return [record.summary() for record in RunStore().list()]


def command_predict(args) -> list[dict]:
    """Read every image first (all or nothing), then ask every saved model about each."""
    from mnistviz.analysis import drawing
    from mnistviz.runs.store import RunStore

    fields, problems = {}, []
    for path in args.images:
        try:
            fields[path] = drawing.image_to_field(path)
        except MnistvizError as error:
            problems.append(str(error))
    if problems:
        raise MnistvizError(f"cannot read {len(problems)} of {len(args.images)} images: " + "; ".join(problems))
    store = RunStore()
    no_model = f"no saved model to ask in {store.root}: train one first, e.g. mnistviz train --arch cnn --data centered"
    if not any(record.has_model for record in store.list()):
        raise MnistvizError(no_model)
    from mnistviz.analysis import predictor  # TensorFlow loads only once there is a model to ask

    models, skipped = predictor.saved_models(store)
    for run in skipped:
        print(f"warning: skipped run {run.run_id} ({run.label}): {run.reason}", file=sys.stderr)
    if not models:
        raise MnistvizError(no_model)
    results = []
    for path, field in fields.items():
        problem = drawing.ink_problem(field)
        if problem:
            print(f"warning: {path}: {problem}", file=sys.stderr)
        predictions = predictor.predict_all(field, recenter=args.recenter, models=models)
        results.append({"image": path, "predictions": [p.to_dict() for p in predictions]})
    return results


def _format_predictions(results: list[dict]) -> str:
    lines = []
    for result in results:
        lines.append(result["image"])
        for p in result["predictions"]:
            lines.append(f"  {p['name']:<20} {p['digit']}  ({max(p['probabilities']):.0%} sure)  {p['run_id']}")
    return "\n".join(lines)


def _format_summary(summary: dict) -> str:
    from mnistviz.show.text import clean  # a name or error a file held: no terminal codes on a teacher's screen

    summary = {**summary, "name": clean(summary["name"] or ""), "error": clean(summary["error"] or "")}

    def pct(value):
        return f"{value:.2%}" if value is not None else "-"

    speed = summary.get("seconds_per_epoch")
    return (
        f"{summary['run_id']}  {summary['status']:<11} {summary['name']:<20} "
        f"epochs {summary['epochs_done']}/{summary['epochs'] or '-'}  val {pct(summary['val_accuracy'])}  "
        f"test {pct(summary['test_accuracy'])}  {f'{speed:.1f} s/epoch' if speed else ''}"
        + (f"  ({summary['error']})" if summary.get("error") else "")
    )


def _format_shift_map(result: dict) -> str:
    """Accuracy as a grid: one row per dy, one column per dx."""
    from mnistviz.analysis.shifts import ShiftMap

    axis, grid = ShiftMap.from_dict(result).grid()
    lines = [
        f"run {result['run_id']}: test accuracy with the digits moved by (dx, dy)",
        "dy \\ dx " + "".join(f"{dx:>6}" for dx in axis),
    ]
    for dy, row in zip(axis, grid, strict=True):
        lines.append(f"{dy:>7} " + "".join(f"{value:>6.0%}" for value in row))
    by_distance = result["stability_by_distance"]
    lines += [
        f"accuracy on centered digits {result['accuracy_centered']:.1%}, anywhere in the field "
        f"{result['accuracy_anywhere']:.1%}",
        f"consistency (Zhang 2019: the same answer at two random shifts within ±{result['consistency_range']} px) "
        f"{result['consistency']:.1%}",
        f"one-pixel stability (answer unchanged when moved one pixel from the centre) "
        f"{result['one_pixel_stability']:.1%}; by distance: "
        + ", ".join(f"{d} px {c:.0%}" for d, c in zip(by_distance["distances"], by_distance["stability"], strict=True)),
    ]
    return "\n".join(lines)


def _format_runs(result: list[dict]) -> str:
    return "\n".join(_format_summary(item) for item in result) if result else "no saved runs"


FORMATS = {
    "train": _format_summary,
    "runs": _format_runs,
    "train-all": _format_runs,
    "predict": _format_predictions,
    "robustness": _format_shift_map,
    "delete": lambda deleted: "deleted " + ", ".join(deleted),
    "teacher-link": lambda result: "Teacher link: " + result["teacher_link"],
    "export": lambda result: (
        f"exported {len(result['runs'])} run(s) to {result['bundle']} "
        f"({result['bytes'] / 1024**2:.1f} MB): " + ", ".join(result["runs"])
    ),
    "import": lambda result: f"imported {len(result)} run(s):\n" + _format_runs(result),
}


def main(argv: list[str] | None = None) -> int:
    commands = {
        "train": command_train,
        "train-all": command_train_all,
        "runs": command_runs,
        "predict": command_predict,
        "robustness": command_robustness,
        "delete": command_delete,
        "teacher-link": command_teacher_link,
        "export": command_export,
        "import": command_import,
    }
    try:
        args = build_parser().parse_args(argv)
        result = commands[args.command](args)
    except MnistvizError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C while a run stops, or one outside training: leave at once
        print("\ninterrupted: a run in progress keeps its saved epochs (it shows as interrupted)", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(FORMATS[args.command](result))
    return 0


def run() -> None:
    """The `mnistviz` command (and `python -m mnistviz`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no cuInit "E0000" line mid-bar
    sys.exit(main())
