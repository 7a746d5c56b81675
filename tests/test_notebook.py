"""The notebook's four models: their cells, the best run standing for each, and which ones train now."""

from types import SimpleNamespace

from mnistviz.learning import notebook
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
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


def with_validation(store, run_id, val_accuracies):
    """Rewrite a fake run's history to these per-epoch validation accuracies (None: the epoch had none)."""
    rows = [
        {"epoch": e + 1, "loss": 0.1, "accuracy": 0.9, "val_loss": 0.1, "val_accuracy": value, "seconds": 1.0}
        for e, value in enumerate(val_accuracies)
    ]
    store.write_history(run_id, {"epochs": rows, "batches": []})
    return run_id


def test_a_cell_is_stood_for_by_its_best_run_on_validation_and_reported_with_that_runs_test_accuracy(tmp_path):
    store = RunStore(tmp_path)
    better_on_validation = save_fake_run(store, RunSpec("cnn", "centered"), val_accuracy=0.99, test_accuracy=0.97)
    luckier_on_test = save_fake_run(store, RunSpec("cnn", "centered", seed=1), val_accuracy=0.98, test_accuracy=0.995)
    chosen = notebook.best_runs(store.list())[("cnn", "centered")]
    assert chosen.run_id == better_on_validation != luckier_on_test
    assert chosen.test_accuracy == 0.97  # the chosen run's own test accuracy, not the best one seen


def test_a_run_is_judged_by_the_validation_accuracy_of_the_weights_it_kept(tmp_path):
    store = RunStore(tmp_path)
    # early stopping put epoch 2's weights back: 99% on validation, although its last epoch had 95%
    restored = with_validation(
        store, save_fake_run(store, RunSpec("mlp", "offset", patience=1), 0.9, 0.90), [0.9, 0.99, 0.95]
    )
    # without early stopping the last epoch's weights are kept: 97%, not its best epoch's 99.5%
    last = with_validation(store, save_fake_run(store, RunSpec("mlp", "offset", seed=1), 0.9, 0.95), [0.9, 0.995, 0.97])
    records = {record.run_id: record for record in store.list()}
    assert records[restored].model_val_accuracy == 0.99
    assert records[last].model_val_accuracy == 0.97
    assert notebook.best_runs(store.list())[("mlp", "offset")].run_id == restored


def test_a_run_without_validation_accuracy_stands_for_its_cell_only_when_no_other_has_one(tmp_path):
    store = RunStore(tmp_path)
    unvalidated = with_validation(store, save_fake_run(store, RunSpec("cnn", "offset"), 0.9, 0.99), [])
    store.write_status(unvalidated, "stopped")  # stopped before its first epoch ended
    assert notebook.best_runs(store.list())[("cnn", "offset")].run_id == unvalidated
    validated = save_fake_run(store, RunSpec("cnn", "offset", seed=1), val_accuracy=0.5, test_accuracy=0.5)
    assert notebook.best_runs(store.list())[("cnn", "offset")].run_id == validated
    assert notebook.best_runs(list(reversed(store.list())))[("cnn", "offset")].run_id == validated


def test_of_runs_equal_on_validation_the_newest_stands_for_the_cell_whatever_the_order(tmp_path):
    store = RunStore(tmp_path)
    ids = [save_fake_run(store, RunSpec("mlp", "centered", seed=seed), 0.98, 0.95 - seed / 100) for seed in range(3)]
    for records in (store.list(), list(reversed(store.list()))):
        assert notebook.best_runs(records)[("mlp", "centered")].run_id == ids[-1]


def test_the_card_of_a_cell_in_training_shows_its_running_job_before_a_queued_one():
    def job(arch, data, shift=0, name=""):
        return SimpleNamespace(spec=RunSpec(arch, data, augment_shift=shift), name=name)

    running, queued = job("cnn", "offset", name="running"), job("cnn", "offset", name="queued")
    busy = notebook.cells_in_training([running, job("mlp", "centered", shift=3), queued])
    assert busy == {("cnn", "offset"): running}
