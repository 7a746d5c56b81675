"""Shift maps and the 2x2 matrix of saved runs: computed once, cached with the run, and what the pages are told."""

import os
import threading

from mnistviz.analysis import shift_maps, shifts
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training.jobs import JobManager


def _trained(tmp_path, spec):
    manager = JobManager(RunStore(tmp_path))
    job = manager.submit(spec)
    assert manager.wait(job.run_id, timeout=120)
    return manager.store, job.run_id


def counting(monkeypatch, owner, name) -> list:
    calls, real = [], getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    return calls


def test_a_shift_map_is_computed_once_and_again_only_when_the_model_changes(tmp_path, synthetic_variants, monkeypatch):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    computed = counting(monkeypatch, shifts, "shift_accuracy")
    first = shift_maps.compute_shift_map(store, run_id, step=7, samples=50)
    assert len(first.shifts) == 25 and all(0 <= a <= 1 for a in first.accuracy)
    assert shift_maps.compute_shift_map(store, run_id, step=7, samples=50) == first
    assert len(computed) == 1  # the second answer came from the run's folder
    record = store.load(run_id)
    assert shift_maps.cached_shift_map(record, 7, 50) == first
    assert shift_maps.cached_shift_map(record, 7, 60) is None  # other settings: not the same map
    stat = record.model_path.stat()
    os.utime(record.model_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new model file
    assert shift_maps.cached_shift_map(store.load(run_id), 7, 50) is None
    shift_maps.compute_shift_map(store, run_id, step=7, samples=50)
    assert len(computed) == 2


def test_the_pages_learn_which_maps_are_ready_and_which_are_being_computed(tmp_path, synthetic_variants, monkeypatch):
    store, first = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    second = store.create(RunSpec("mlp", "offset"))  # no model yet: nothing to map
    shift_maps.compute_shift_map(store, first, step=7, samples=50)
    manager = JobManager(store)
    records = store.list()
    ready = shift_maps.shift_maps(manager.tasks, store, records, step=7, samples=50)
    assert list(ready.ready) == [first] and ready.missing == [] and not ready.computing

    release = threading.Event()
    real = shift_maps.compute_shift_map
    monkeypatch.setattr(shift_maps, "compute_shift_map", lambda *args: release.wait(30) and real(*args))
    pending = shift_maps.shift_maps(manager.tasks, store, records, step=14, samples=50)
    assert pending.ready == {} and [record.run_id for record in pending.missing] == [first]
    pending.compute_missing(manager.tasks)
    again = shift_maps.shift_maps(manager.tasks, store, store.list(), step=14, samples=50)
    assert [task.key for task in again.computing] == [("shift-map", first, 14, 50)]  # another session sees it
    again.compute_missing(manager.tasks)
    assert again.tasks[first] is pending.tasks[first]  # joined, not computed twice
    release.set()
    assert pending.tasks[first].done.wait(60) and not pending.tasks[first].error
    done = shift_maps.shift_maps(manager.tasks, store, store.list(), step=14, samples=50)
    assert list(done.ready) == [first] and not done.missing and second not in done.ready


def test_the_task_runner_reports_progress_and_results(tmp_path, synthetic_variants):
    store, run_id = _trained(tmp_path, RunSpec("cnn", "offset", epochs=1, batch_size=50, train_size=600))
    manager = JobManager(store)
    seen = []

    def compute(report):
        def spy(fraction):
            seen.append(fraction)
            report(fraction)

        return shift_maps.compute_shift_map(store, run_id, 7, 50, spy)

    task = manager.tasks.submit(("shift-map", run_id), compute)
    assert manager.tasks.submit(("shift-map", run_id), compute) is task  # not computed twice at once
    assert task.done.wait(120) and not task.error
    assert task.result.shifts == [(dx, dy) for dy in (-14, -7, 0, 7, 14) for dx in (-14, -7, 0, 7, 14)]
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_the_cross_matrix_task_is_shared_and_restarted_only_after_an_error(tmp_path, synthetic_variants, monkeypatch):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    runner = JobManager(store).tasks
    task = shift_maps.cross_matrix_task(runner, store)
    assert shift_maps.cross_matrix_task(runner, store) is task
    assert task.done.wait(120) and not task.error
    assert task.result[("mlp", "centered")]["run_id"] == run_id
    assert shift_maps.cross_matrix_task(runner, store) is task  # done: its result stands
    task.error = "the disk was full"
    assert shift_maps.cross_matrix_task(runner, store) is not task


def test_a_cell_of_the_matrix_opens_the_digits_the_model_got_wrong_as_it_saw_them(tmp_path, synthetic_variants):
    store, run_id = _trained(tmp_path, RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600))
    row = shift_maps.cross_matrix(store)[("mlp", "centered")]
    for tested in ("centered", "offset"):
        digits = shift_maps.cell_digits(store, run_id, tested, limit=5)
        assert digits.tested == 100 and digits.wrong == round((1 - row[tested]) * 100)
        assert digits.images.shape == (min(5, digits.wrong), 28, 28)  # the window: what this model receives
        assert all(" → " in title and title[0] != title[-1] for title in digits.titles)
