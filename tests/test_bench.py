"""The benchmarks run end to end on a tiny configuration (speed is for `python -m mnistviz bench`)."""

import pytest

from bench import run as bench_run

pytestmark = pytest.mark.integration


def test_every_benchmark_runs_and_reports_a_row():
    rows = bench_run.run(scale=bench_run.TINY)
    names = [row.benchmark for row in rows]
    assert sum("training throughput" in name for name in names) == 4
    assert any("peak memory" in name for name in names)
    assert any("four predictions" in name for name in names)
    assert any("position map" in name for name in names)
    assert any("shift map" in name for name in names)
    for row in rows:
        if row.ratio != "-":
            assert float(row.ratio.rstrip("x")) > 0
    table = bench_run.table(rows)
    assert table.count("\n") == len(rows) + 1


def test_the_alternating_throughput_benchmark_measures_both_sides_each_repeat():
    from bench import ab

    speeds = ab.alternate("mlp", "centered", count=2048, epochs=2, repeats=2)
    assert [len(values) for values in speeds.values()] == [2, 2]
    assert all(value > 0 for values in speeds.values() for value in values)
