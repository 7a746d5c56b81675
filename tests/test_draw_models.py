"""Which models answer on Draw by default, and which one the feature maps open on."""

from mnistviz.analysis import drawing
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from tests.conftest import save_fake_run


def fake_model(store, arch, data, accuracy, name="", augment_shift=0):
    run_id = save_fake_run(store, RunSpec(arch, data, name=name, augment_shift=augment_shift), accuracy, accuracy)
    (store.folder(run_id) / "model.keras").write_bytes(b"weights")
    return run_id


def test_the_default_is_the_pins_then_the_best_of_each_notebook_cell(tmp_path):
    store = RunStore(tmp_path)
    worse = fake_model(store, "mlp", "centered", 0.90)
    best = fake_model(store, "mlp", "centered", 0.95)
    offset = fake_model(store, "cnn", "offset", 0.97)
    shifted = fake_model(store, "cnn", "centered", 0.99, augment_shift=3)  # an experiment, not a notebook model
    save_fake_run(store, RunSpec("mlp", "offset"), 0.9, 0.9)  # no model file: not drawable
    choices = drawing.draw_choices(store.list(), pinned=[shifted, "20990101-000000-mlp-offset-abcdef"])
    assert choices.default == [shifted, best, offset]  # a pin of a run that is gone is dropped
    assert set(choices.options) == {worse, best, offset, shifted}
    assert len(set(choices.options.values())) == 4  # same names, told apart by time and id


def test_the_default_model_of_a_cell_is_its_best_on_validation_not_on_test(tmp_path):
    store = RunStore(tmp_path)
    better_on_validation = save_fake_run(store, RunSpec("cnn", "offset"), val_accuracy=0.99, test_accuracy=0.97)
    luckier_on_test = save_fake_run(store, RunSpec("cnn", "offset", seed=1), val_accuracy=0.98, test_accuracy=0.995)
    for run_id in (better_on_validation, luckier_on_test):
        (store.folder(run_id) / "model.keras").write_bytes(b"weights")
    assert drawing.draw_choices(store.list(), pinned=[]).default == [better_on_validation]


def test_with_no_notebook_model_the_newest_runs_are_shown(tmp_path):
    store = RunStore(tmp_path)
    ids = [fake_model(store, "mlp", "centered", 0.9, augment_shift=2) for _ in range(6)]
    assert drawing.draw_choices(store.list(), []).default == sorted(ids, reverse=True)[:4]


def test_the_feature_maps_open_on_a_cnn_offset_first():
    assert drawing.feature_model_index([("mlp", "centered"), ("cnn", "centered"), ("cnn", "offset")]) == 2
    assert drawing.feature_model_index([("mlp", "centered"), ("cnn", "centered")]) == 1
    assert drawing.feature_model_index([("mlp", "offset")]) == 0


def test_pins_are_read_as_untrusted_run_ids(tmp_path):
    store = RunStore(tmp_path)
    run_id = fake_model(store, "mlp", "centered", 0.9)
    store.pin([run_id])
    assert store.pinned() == [run_id]
    (tmp_path / "pinned.json").write_text('["../../etc", 5, "' + run_id + '"]')
    assert store.pinned() == [run_id]
    (tmp_path / "pinned.json").write_text("{")
    assert store.pinned() == []
