"""The Shift Lab's benchmark runs end to end on a tiny grid and judges every result it must reproduce."""

import pytest

from bench import lab as bench_lab
from mnistviz import lab

pytestmark = pytest.mark.integration


def test_the_lab_benchmark_measures_every_grid_run_and_checks_each_result(tmp_path, synthetic_variants):
    rows, seconds = bench_lab.measure_grid(tmp_path, seed=1, train_size=200, epochs=1, samples=10, step=2)
    assert [row.title for row in rows] == [cell.title for cell in lab.grid()] and seconds > 0
    assert all(set(row.accuracy) == set(bench_lab.SHIFTS) for row in rows)
    assert all(0 <= row.consistency <= 1 and row.params > 0 for row in rows)
    claims = [claim for claim, _ in bench_lab.checks(rows)]
    assert len(claims) == 7 and claims[0].startswith("CNN-flatten at (8, 0)")
    table = bench_lab.table(rows)
    assert table.count("\n") == len(rows) + 1 and "CNN-gmp-same-blur, shifted ±2 px" in table
