"""The notebook's four models: their cells, the best run standing for each, and which ones train now."""

from types import SimpleNamespace

from mnistviz import notebook
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore
from tests.conftest import save_fake_run


def test_the_four_cells_come_in_the_lessons_order():
    assert notebook.cells() == [("mlp", "centered"), ("cnn", "centered"), ("mlp", "offset"), ("cnn", "offset")]
    assert set(notebook.VAL_ACCURACY) == set(notebook.cells())
    assert notebook.cell_spec("cnn", "offset") == RunSpec("cnn", "offset")


def test_the_best_run_of_a_cell_is_its_best_finished_or_stopped_notebook_run(tmp_path):
    store = RunStore(tmp_path)
    weaker = save_fake_run(store, RunSpec("mlp", "centered"), 0.95, 0.94)
    best = save_fake_run(store, RunSpec("mlp", "centered", seed=1), 0.97, 0.96)
    save_fake_run(store, RunSpec("mlp", "centered", augment_shift=4), 0.99, 0.99)  # an experiment, not the notebook's
    save_fake_run(store, RunSpec("cnn", "offset", head="gmp"), 0.99, 0.99)  # a Shift Lab variant: not the notebook's
    failed = save_fake_run(store, RunSpec("mlp", "centered", seed=2), 0.99, 0.99)
    store.write_status(failed, "failed", error="boom")
    offset = save_fake_run(store, RunSpec("cnn", "offset"), 0.9, 0.9)
    store.write_status(offset, "stopped")
    chosen = notebook.best_runs(store.list())
    assert {key: record.run_id for key, record in chosen.items()} == {
        ("mlp", "centered"): best,
        ("cnn", "offset"): offset,
    }
    assert weaker != best


def test_the_card_of_a_cell_in_training_shows_its_running_job_before_a_queued_one():
    def job(arch, data, shift=0, name=""):
        return SimpleNamespace(spec=RunSpec(arch, data, augment_shift=shift), name=name)

    running, queued = job("cnn", "offset", name="running"), job("cnn", "offset", name="queued")
    busy = notebook.cells_in_training([running, job("mlp", "centered", shift=3), queued])
    assert busy == {("cnn", "offset"): running}
