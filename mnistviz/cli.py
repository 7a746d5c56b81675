"""`python -m mnistviz`: the dashboard's jobs without a browser.

With --json, stdout carries exactly one JSON document; progress always goes to stderr.
A MnistvizError prints one line and exits 2.
"""

import argparse
import json
import sys

from mnistviz.errors import MnistvizError
from mnistviz.spec import ARCHITECTURES, VARIANTS, RunSpec


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
    parser = _Parser(prog="python -m mnistviz", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train one run into the runs directory")
    train.add_argument("--arch", required=True, choices=ARCHITECTURES)
    train.add_argument("--data", required=True, choices=VARIANTS)
    train.add_argument("--epochs", type=_positive_int, default=20)
    train.add_argument("--batch-size", type=_positive_int, default=None, help="default: 1024 (MLP), 256 (CNN)")
    train.add_argument("--lr", type=_number, default=1e-3, help="learning rate (default 0.001)")
    train.add_argument("--train-size", type=_positive_int, default=60000, help="digits to train on (default 60000)")
    train.add_argument("--seed", type=_positive_int, default=0)
    train.add_argument("--augment-shift", type=_positive_int, default=0, help="random shift augmentation, max pixels")
    train.add_argument("--name", default="", help="a label for the run")
    train.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    runs = commands.add_parser("runs", help="list saved runs")
    runs.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    predict = commands.add_parser("predict", help="every saved model's prediction for digit images")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="an image file; the whole image is the 56x56 field")
    predict.add_argument("--recenter", action="store_true", help="normalise each digit as MNIST does first")
    predict.add_argument("--json", action="store_true", help="print one JSON document on stdout")
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
        f"{left:.0f} s left" if left is not None else "",
    ]
    sys.stderr.write("\r" + "  ".join(p for p in parts if p) + "\033[K")
    sys.stderr.flush()


def command_train(args) -> dict:
    from mnistviz.jobs import get_manager

    spec = RunSpec(
        arch=args.arch,
        data=args.data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        train_size=args.train_size,
        seed=args.seed,
        augment_shift=args.augment_shift,
        name=args.name,
    )
    manager = get_manager()
    job = manager.submit(spec)
    print(f"run {job.run_id}: {spec.label}, {spec.epochs} epochs, batch {spec.batch_size}", file=sys.stderr)
    try:
        while not job.done.wait(0.5):
            _print_progress(job.snapshot())
    except KeyboardInterrupt:
        manager.stop(job.run_id)
        sys.stderr.write("\nstopping after this batch...\n")
        job.done.wait()
    _print_progress(job.snapshot())
    sys.stderr.write("\n")
    record = manager.store.load(job.run_id)
    if record.status == "failed":
        raise MnistvizError(f"run {job.run_id} failed: {record.error}")
    return record.summary()


def command_runs(args) -> list[dict]:
    from mnistviz.store import RunStore

    return [record.summary() for record in RunStore().list()]


def command_predict(args) -> list[dict]:
    """Read every image first (all or nothing), then ask every saved model about each."""
    from mnistviz import drawing
    from mnistviz.store import RunStore

    fields, problems = {}, []
    for path in args.images:
        try:
            fields[path] = drawing.image_to_field(path)
        except MnistvizError as error:
            problems.append(str(error))
    if problems:
        raise MnistvizError(f"cannot read {len(problems)} of {len(args.images)} images: " + "; ".join(problems))
    store = RunStore()
    no_model = f"no saved model to ask in {store.root}: train one first, e.g. python -m mnistviz train --arch cnn --data centered"
    if not any(record.has_model for record in store.list()):
        raise MnistvizError(no_model)
    from mnistviz import predictor  # TensorFlow loads only once there is a model to ask

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
    def pct(value):
        return f"{value:.2%}" if value is not None else "-"

    speed = summary.get("seconds_per_epoch")
    return (
        f"{summary['run_id']}  {summary['status']:<11} {summary['name']:<20} "
        f"epochs {summary['epochs_done']}/{summary['epochs'] or '-'}  val {pct(summary['val_accuracy'])}  "
        f"test {pct(summary['test_accuracy'])}  {f'{speed:.1f} s/epoch' if speed else ''}"
        + (f"  ({summary['error']})" if summary.get("error") else "")
    )


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        commands = {"train": command_train, "runs": command_runs, "predict": command_predict}
        result = commands[args.command](args)
    except MnistvizError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=1))
    elif args.command == "predict":
        print(_format_predictions(result))
    elif isinstance(result, list):
        print("\n".join(_format_summary(item) for item in result) if result else "no saved runs")
    else:
        print(_format_summary(result))
    return 0


def run() -> None:
    sys.exit(main())
