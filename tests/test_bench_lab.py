"""The Shift Lab's benchmark runs end to end on a tiny grid and judges every result it must reproduce."""

import pytest

from bench import lab as bench_lab
from mnistviz.analysis import lab

pytestmark = pytest.mark.integration


def test_the_lab_benchmark_measures_every_grid_run_and_checks_each_result(tmp_path, synthetic_variants, monkeypatch):
    from mnistviz.analysis import measures

    monkeypatch.setattr(measures, "SAMPLES", 40)  # the benchmark's path, not the measures' precision, is checked here
    rows, seconds = bench_lab.measure_grid(tmp_path, seed=1, train_size=200, epochs=1, samples=10, step=2)
    assert [row["title"] for row in rows] == [cell.title for cell in lab.grid()] and seconds > 0
    assert all(len(row["accuracy"]) == len(bench_lab.SHIFTS) and row["seed"] == 1 for row in rows)
    assert all(0 <= row["consistency"] <= 1 and 0 <= row["stability_every_direction"] <= 1 for row in rows)
    assert all(row["params"] > 0 and row["multiply_adds"] > 0 for row in rows)
    claims = [claim for claim, _ in bench_lab.checks(rows)]
    assert len(claims) == 7 and claims[0].startswith("the head, all else equal")
    table = bench_lab.table(rows)
    assert table.count("\n") == len(rows) + 1 and "CNN-gmp-same-blur, shifted ±2 px | field" in table


def _row(model: str, seed: int, consistency: float, at_8: float, middle: float = 0.97) -> dict:
    return {
        "model": model,
        "augment": 0,
        "title": model,
        "seed": seed,
        "view": "field",
        "run_id": f"{model}-{seed}",
        "accuracy": {"0,0": middle, "8,0": at_8, "12,12": at_8, "-14,-14": at_8},
        "centered": middle,
        "anywhere": at_8,
        "corner": at_8 / middle,
        "consistency": consistency,
        "stability": 0.9,
        "stability_every_direction": 0.9,
        "whole_map": at_8,
        "params": 1,
        "multiply_adds": 1,
    }


@pytest.mark.parametrize(
    ("field", "gmp", "held"),
    [((0.6, 0.15), (0.9, 0.96), True), ((0.6, 0.4), (0.9, 0.96), False), ((0.95, 0.15), (0.9, 0.96), False)],
)
def test_the_head_is_judged_between_models_that_see_the_same_field(field, gmp, held):
    rows = [_row("CNN-field", 0, *field), _row("CNN-gmp", 0, *gmp)]
    verdicts = [held for claim, held in bench_lab.checks(rows) if "the head" in claim or "head, all else" in claim]
    assert all(verdicts) is held


def test_the_table_gives_each_cell_its_mean_and_range_over_the_seeds():
    rows = [_row("CNN-gmp", 0, 0.9, 0.90), _row("CNN-gmp", 1, 0.9, 0.96)]
    (line,) = bench_lab.table(rows).splitlines()[2:]
    assert "| 93.0% (90.0-96.0) |" in line  # (8, 0): the mean, then the lowest and highest seed
