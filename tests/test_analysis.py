import os

from mnistviz import analysis, robustness
from mnistviz.jobs import JobManager
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore


def _trained(tmp_path, spec):
    manager = JobManager(RunStore(tmp_path))
    job = manager.submit(spec)
    assert manager.wait(job.run_id, timeout=120)
    return manager.store, job.run_id


def test_a_shift_map_is_cached_until_the_model_changes(tmp_path, synthetic_variants):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    first = analysis.compute_shift_map(store, run_id, step=7, samples=50)
    assert len(first.shifts) == 25 and all(0 <= a <= 1 for a in first.accuracy)
    record = store.load(run_id)
    assert analysis.cached_shift_map(record, 7, 50) == first
    assert analysis.cached_shift_map(record, 7, 60) is None  # other settings: not the same map
    stat = record.model_path.stat()
    os.utime(record.model_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new model file
    assert analysis.cached_shift_map(store.load(run_id), 7, 50) is None


def test_the_task_runner_reports_progress_and_results(tmp_path, synthetic_variants):
    store, run_id = _trained(tmp_path, RunSpec("cnn", "offset", epochs=1, batch_size=50, train_size=600))
    manager = JobManager(store)
    seen = []

    def compute(report):
        def spy(fraction):
            seen.append(fraction)
            report(fraction)

        return analysis.compute_shift_map(store, run_id, 7, 50, spy)

    task = manager.tasks.submit(("shift-map", run_id), compute)
    assert manager.tasks.submit(("shift-map", run_id), compute) is task  # not computed twice at once
    assert task.done.wait(120) and not task.error
    assert task.result.shifts == [(dx, dy) for dy in (-14, -7, 0, 7, 14) for dx in (-14, -7, 0, 7, 14)]
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_position_maps_of_a_drawing_cover_every_place_it_fits(tmp_path, synthetic_variants):
    import numpy as np

    from mnistviz import predictor

    store, _ = _trained(tmp_path, RunSpec("mlp", "offset", epochs=2, batch_size=50, train_size=600))
    models, _ = predictor.saved_models(store)
    field = synthetic_variants["offset"].x_test[0].copy()
    digit, maps = analysis.drawing_position_maps(field, models)
    assert 0 <= digit <= 9
    ((saved, result),) = maps
    assert result.probability.shape == (56, 56)
    filled = np.isfinite(result.probability)
    assert filled.sum() == len(robustness.positions(field))
    assert analysis.drawing_position_maps(field, models) == (digit, maps)  # answered from the cache
    digit_three, _ = analysis.drawing_position_maps(field, models, digit=3)
    assert digit_three == 3
