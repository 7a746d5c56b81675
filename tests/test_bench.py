"""The benchmarks run end to end on a tiny configuration (speed is for `python -m mnistviz bench`)."""

import numpy as np
import pytest

from bench import run as bench_run
from tests.threaded import ThreadExecutor

pytestmark = pytest.mark.integration


def test_every_benchmark_runs_and_reports_a_row(monkeypatch):
    # the four drawing models train in threads here: four more TensorFlow start-ups check nothing the
    # benchmark adds (tests/test_executors.py crosses the process boundary)
    monkeypatch.setattr(bench_run, "LocalProcesses", ThreadExecutor)
    rows = bench_run.run(scale=bench_run.TINY)
    names = [row.benchmark for row in rows]
    assert sum("training throughput" in name for name in names) == 4
    assert any("peak memory" in name for name in names)
    assert any("four predictions" in name for name in names)
    assert any("position map" in name for name in names)
    assert any("shift map" in name for name in names)
    for row in rows:
        if row.ratio != "-":
            assert float(row.ratio.split("x")[0]) > 0
    table = bench_run.table(rows)
    assert table.count("\n") == len(rows) + 1


def test_the_throughput_benchmark_times_every_steady_epoch_of_both_sides(tmp_path):
    measured = bench_run.throughput("mlp", "centered", count=2048, epochs=3, runs=tmp_path)
    assert len(measured.notebook) == len(measured.mnistviz) == 2
    assert all(seconds > 0 for seconds in measured.notebook + measured.mnistviz)
    assert measured.samples_per_second("mnistviz") == pytest.approx(2048 / np.median(measured.mnistviz))
    assert min(measured.epoch_ratios) <= measured.ratio <= max(measured.epoch_ratios)
