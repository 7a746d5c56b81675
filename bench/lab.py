"""The Shift Lab's results, reproduced: `python -m bench.lab [--seeds 0 1 2] [--samples 500] [--out FILE]`.

Trains the lab's grid (`mnistviz.analysis.lab.grid`, the dashboard's own settings: 2 epochs on 16,000 centered
digits, batch 128) once per seed in a temporary runs folder, one run after the other as the dashboard's
queue does, then measures every run as the Lab page does (`lab.table_rows`), and more: its shift map on
every even shift with `--samples` test digits each, and its one-pixel stability on every test digit in
all eight directions. Prints one table per seed, the mean table with each cell's range, the sentences
the Lab writes from them, and whether each result the lab must reproduce held, for every seed.
`--out` writes every row as JSON: `docs/shift-lab-results.json` is what the README's table and the tests
of the Lab's sentences (`tests/test_lab_results.py`) are made of.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mnistviz.analysis import lab, measures, predictor, shift_maps, shifts  # noqa: E402
from mnistviz.learning import data as mnist_data  # noqa: E402
from mnistviz.learning import models  # noqa: E402
from mnistviz.learning.spec import RunSpec  # noqa: E402
from mnistviz.runs.store import RunStore  # noqa: E402
from mnistviz.show import story  # noqa: E402
from mnistviz.training.jobs import JobManager  # noqa: E402

SHIFTS = ((0, 0), (2, 0), (8, 0), (12, 12), (-14, -14))  # the moves the results name


def grid_specs(seed: int, train_size: int, epochs: int) -> list[tuple[lab.Cell, RunSpec]]:
    changes = {"seed": seed, "train_size": train_size, "epochs": epochs}
    return [(cell, RunSpec.from_dict({**cell.spec.to_dict(), **changes})) for cell in lab.grid(seed)]


def measure_grid(root: Path, seed: int, train_size: int, epochs: int, samples: int, step: int) -> tuple[list, float]:
    """Train the grid for one seed, then measure it: the Lab's rows with the benchmark's extra figures, and
    the grid's training seconds (wall)."""
    store = RunStore(root)
    manager = JobManager(store)
    started = time.monotonic()
    trained = {}
    for cell, spec in grid_specs(seed, train_size, epochs):
        job = manager.submit(spec)
        manager.wait(job.run_id)
        record = store.load(job.run_id)
        if record.status != "finished":
            raise RuntimeError(f"{spec.label} (seed {seed}) {record.status}: {record.error}")
        trained[lab.Cell(cell.model, cell.augment, spec)] = record
    seconds = time.monotonic() - started
    test_digits = mnist_data.load_variant("centered").x_test
    maps = {
        record.run_id: shift_maps.compute_shift_map(store, record.run_id, step, samples) for record in trained.values()
    }
    measured = {record.run_id: measures.compute_measures(store, record.run_id) for record in trained.values()}
    rows = lab.table_rows(trained, measured, maps, models.multiply_adds)
    for row in rows:
        shift_map = maps[row["run_id"]]
        saved = predictor.saved_model(store, row["run_id"])
        row["accuracy"] = {f"{dx},{dy}": shift_map.at(dx, dy) for dx, dy in SHIFTS if (dx, dy) in shift_map.shifts}
        row["whole_map"] = statistics.fmean(shift_map.accuracy)
        moves = zip(shift_map.shifts, shift_map.accuracy, strict=True)
        row["near"] = min(accuracy for (dx, dy), accuracy in moves if max(abs(dx), abs(dy)) <= 2)
        row["stability_every_direction"] = shifts.one_pixel_stability_every_direction(
            saved.probabilities, saved.view, test_digits
        )
    return rows, seconds


def at(row: dict, dx: int, dy: int) -> float:
    return row["accuracy"][f"{dx},{dy}"]


def checks(rows: list[dict]) -> list[tuple[str, bool]]:
    """The results the lab must reproduce (issues 14 and 20), each with whether it held for these rows (one seed)."""
    by = {(row["model"], row["augment"]): row for row in rows}
    out = []
    field, gmp, same = by.get(("CNN-field", 0)), by.get(("CNN-gmp", 0)), by.get(("CNN-gmp-same", 0))
    if field and gmp:
        out.append(
            (
                f"the head, all else equal: CNN-field at (8, 0) {at(field, 8, 0):.0%} <= 35%, CNN-gmp "
                f"{at(gmp, 8, 0):.0%} >= 85% of its (0, 0)",
                at(field, 8, 0) <= 0.35 and at(gmp, 8, 0) >= 0.85 * at(gmp, 0, 0),
            )
        )
    if same:
        kept = [at(same, *move) / at(same, 0, 0) for move in ((8, 0), (12, 12), (-14, -14))]
        out.append(
            (
                "CNN-gmp-same keeps " + ", ".join(f"{k:.0%}" for k in kept) + " at (8,0), (12,12), (-14,-14) (>= 85%)",
                min(kept) >= 0.85,
            )
        )
        out.append((f"CNN-gmp-same over the whole map: {same['whole_map']:.0%} (>= 80%)", same["whole_map"] >= 0.80))
    if gmp and same:
        out.append(
            (
                f"the border effect: CNN-gmp keeps {gmp['corner']:.0%} at (12, 12), with same padding {same['corner']:.0%}",
                gmp["corner"] < same["corner"],
            )
        )
    shifted = by.get(("CNN", lab.AUGMENT))
    if shifted:
        kept_near = shifted["near"] / at(shifted, 0, 0)
        out.append((f"CNN ±2 px keeps {kept_near:.0%} within 2 px (>= 85%)", kept_near >= 0.85))
        out.append((f"CNN ±2 px at (8, 0): {at(shifted, 8, 0):.0%} (< 40%)", at(shifted, 8, 0) < 0.40))
    if field and gmp:
        out.append(
            (
                f"Zhang's consistency, the head all else equal: CNN-gmp {gmp['consistency']:.1%} > CNN-field "
                f"{field['consistency']:.1%}",
                gmp["consistency"] > field["consistency"],
            )
        )
    return out


def _cell(values: list[float], digits: int = 1) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}%}"
    return f"{mean:.{digits}%} ({100 * min(values):.{digits}f}-{100 * max(values):.{digits}f})"


def table(rows: list[dict]) -> str:
    """One line per grid model: the mean over the seeds in `rows`, with the range when there are several."""
    header = (
        "| model | sees | (0, 0) | (8, 0) | (12, 12) | (-14, -14) | corner kept | whole map | anywhere | consistency "
        "| one-pixel stability | every direction | parameters | multiply-adds |"
    )
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for summary in lab.summarize(rows):
        group = [row for row in rows if row["run_id"] in summary["run_ids"]]
        cells = [_cell([at(row, *move) for row in group]) for move in ((0, 0), (8, 0), (12, 12), (-14, -14))]
        cells += [_cell([row[name] for row in group], 0 if name == "corner" else 1) for name in ("corner", "whole_map")]
        cells += [_cell([row[name] for row in group]) for name in ("anywhere", "consistency", "stability")]
        cells.append(_cell([row["stability_every_direction"] for row in group], 2))
        lines.append(
            f"| {summary['title']} | {summary['view']} | "
            + " | ".join(cells)
            + f" | {summary['params']:,} | {summary['multiply_adds']:,} |"
        )
    return "\n".join(lines)


def sentences(rows: list[dict]) -> list[str]:
    """The sentences the Lab writes from these rows, with the same facts beside them as the page has."""
    seeds = sorted({row["seed"] for row in rows})
    return story.lab_sentences(
        lab.summarize(rows),
        lab.budget(len(seeds), rows[0]["train_size"]),
        measures.ink_left_at(lab.CORNER),
        measures.ink_reach_at(lab.CORNER),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lab", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=500, help="test digits per shift of the maps")
    parser.add_argument("--train-size", type=int, default=lab.SETTINGS["train_size"], help="default %(default)s")
    parser.add_argument("--epochs", type=int, default=lab.SETTINGS["epochs"])
    parser.add_argument("--out", type=Path, help="write every row as JSON here")
    args = parser.parse_args(argv)
    held_everywhere: dict[int, list[bool]] = {}
    everything = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            rows, seconds = measure_grid(Path(folder), seed, args.train_size, args.epochs, args.samples, step=2)
        for row in rows:
            row["train_size"], row["epochs"], row["samples"] = args.train_size, args.epochs, args.samples
        everything += rows
        print(f"\nseed {seed}: the grid trained in {seconds / 60:.1f} min (one run after the other)")
        print(table(rows))
        for number, (claim, held) in enumerate(checks(rows)):
            print(f"{'held' if held else 'FAILED'}: {claim}")
            held_everywhere.setdefault(number, []).append(held)
    print(f"\nmean over seeds {', '.join(map(str, args.seeds))}:")
    print(table(everything))
    print("\nwhat the Lab says of them:")
    for sentence in sentences(everything):
        print(f"- {sentence}")
    print(
        f"\nresults that held for every seed: {sum(all(v) for v in held_everywhere.values())} of {len(held_everywhere)}"
    )
    if args.out:
        args.out.write_text(json.dumps(everything, indent=1) + "\n")


if __name__ == "__main__":
    main()
