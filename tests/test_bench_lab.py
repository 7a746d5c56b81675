"""The Shift Lab's benchmark runs end to end on a tiny grid and judges every result it must reproduce."""

import pytest

from bench import lab as bench_lab
from mnistviz import lab

pytestmark = pytest.mark.integration


def test_the_lab_benchmark_measures_every_grid_run_and_checks_each_result(tmp_path, synthetic_variants):
    rows, seconds = bench_lab.measure_grid(tmp_path, seed=1, train_size=200, epochs=1, samples=10, step=2)
    assert [row.title for row in rows] == [cell.title for cell in lab.grid()] and seconds > 0
    assert all(set(row.accuracy) == set(bench_lab.SHIFTS) for row in rows)
    assert all(0 <= row.consistency <= 1 and 0 <= row.consistency_exact <= 1 and row.params > 0 for row in rows)
    claims = [claim for claim, _ in bench_lab.checks(rows)]
    assert len(claims) == 7 and claims[0].startswith("CNN-flatten at (8, 0)")
    table = bench_lab.table(rows)
    assert table.count("\n") == len(rows) + 1 and "CNN-gmp-same-blur, shifted ±2 px" in table


def _row(model: str, consistency: float, middle: float = 0.97, moved: float = 0.97) -> bench_lab.Row:
    accuracy = {move: moved for move in bench_lab.SHIFTS} | {(0, 0): middle}
    return bench_lab.Row(model, model, 0, accuracy, moved, moved, consistency - 0.01, consistency, moved, 1, 1.0)


@pytest.mark.parametrize(
    ("gmp", "flat", "mlp", "held"),
    [(0.972, 0.969, 0.89, True), (0.968, 0.969, 0.89, False), (0.972, 0.88, 0.89, False)],
)
def test_the_consistency_order_compares_heads_with_all_else_the_notebooks(gmp, flat, mlp, held):
    rows = [_row("MLP", mlp), _row("CNN", flat), _row("CNN-gmp", gmp), _row("CNN-gmp-same", 0.5)]
    (claim, verdict) = next((claim, v) for claim, v in bench_lab.checks(rows) if claim.startswith("consistency"))
    assert verdict is held and "CNN-gmp-same 50.00%" in claim  # the same-padding model is reported, not judged
