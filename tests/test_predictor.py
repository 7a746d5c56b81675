"""Every saved model predicts a drawing: tiny models trained on synthetic digits, loaded once, skipped when broken."""

import os
import shutil
import threading

import keras
import numpy as np
import pytest

from mnistviz.analysis import drawing, predictor
from mnistviz.learning import data, field
from mnistviz.learning.field import CENTER, FIELD, model_view, shift
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import MODEL_FILE, RunStore
from mnistviz.training.jobs import JobManager
from tests.conftest import synthetic_mnist
from tests.threaded import ThreadExecutor


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory):
    """A centered MLP and an offset CNN, one short epoch each on the synthetic squares; trained once."""
    root = tmp_path_factory.mktemp("runs")
    mnist = synthetic_mnist()
    variants = {name: data.make_variant(mnist, name) for name in data.VARIANTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        manager = JobManager(RunStore(root), ThreadExecutor())  # the patched data applies in this process
        jobs = [
            manager.submit(RunSpec("mlp", "centered", epochs=3, batch_size=50, train_size=600)),
            manager.submit(RunSpec("cnn", "offset", epochs=1, batch_size=50, train_size=600)),
        ]
        for job in jobs:
            assert manager.wait(job.run_id, timeout=300)
            assert manager.store.load(job.run_id).status == "finished"
    return root


@pytest.fixture
def store(trained_runs, tmp_path):
    """A private copy of the trained runs, so that a test may damage or delete them."""
    root = tmp_path / "runs"
    shutil.copytree(trained_runs, root)
    return RunStore(root)


def square_of(label: int) -> np.ndarray:
    """The synthetic digit `label` (see conftest) drawn centered in the field."""
    field = np.zeros((FIELD, FIELD), np.uint8)
    row, col = CENTER + 4 + 7 * (label // 4), CENTER + 4 + 6 * (label % 4)
    field[row : row + 6, col : col + 5] = 255
    return field


def test_every_saved_model_predicts_with_the_exact_image_it_receives(store):
    field = square_of(3)
    predictions = predictor.predict_all(field, store=store)
    assert sorted((p.arch, p.data) for p in predictions) == [("cnn", "offset"), ("mlp", "centered")]
    for p in predictions:
        size = 28 if p.data == "centered" else 56
        assert p.image.shape == (size, size) and p.image.dtype == np.uint8
        assert np.array_equal(p.image, model_view(field, p.view))
        assert len(p.probabilities) == 10 and abs(sum(p.probabilities) - 1) < 1e-4
        assert p.digit == int(np.argmax(p.probabilities)) and p.label == f"{p.arch.upper()} {p.data}"
        assert set(p.to_dict()) == {"run_id", "name", "arch", "data", "view", "digit", "probabilities"}


def test_the_centered_model_sees_the_window_as_in_training(store):
    models, _ = predictor.saved_models(store)
    mlp = [m for m in models if m.arch == "mlp"]
    digits = [predictor.predict_all(square_of(label), models=mlp)[0].digit for label in range(10)]
    assert sum(d == label for label, d in enumerate(digits)) >= 8


def test_recentering_changes_what_the_models_see(store):
    field = shift(square_of(0), 24, 24)  # out of the window
    plain = {p.data: p.image for p in predictor.predict_all(field, store=store)}
    centered = {p.data: p.image for p in predictor.predict_all(field, recenter=True, store=store)}
    assert not plain["centered"].any() and centered["centered"].any()
    assert np.array_equal(centered["offset"], drawing.recenter(field))


def test_models_are_loaded_once_and_again_only_when_their_file_changes(store):
    first = {m.run_id: m.model for m in predictor.saved_models(store)[0]}
    again = {m.run_id: m.model for m in predictor.saved_models(store)[0]}
    assert all(again[run_id] is model for run_id, model in first.items())
    changed, unchanged = sorted(first)
    path = store.folder(changed) / MODEL_FILE
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = {m.run_id: m.model for m in predictor.saved_models(store)[0]}
    assert after[changed] is not first[changed] and after[unchanged] is first[unchanged]


def test_a_corrupt_model_file_is_skipped_with_a_reason(store):
    victim = store.list()[0]
    victim.model_path.write_bytes(b"not a keras archive")
    models, skipped = predictor.saved_models(store)
    assert [s.run_id for s in skipped] == [victim.run_id]
    assert "does not load" in skipped[0].reason
    assert len(models) == 1 and models[0].run_id != victim.run_id
    assert len(predictor.predict_all(square_of(1), store=store)) == 1


def test_a_model_whose_answers_are_not_probabilities_is_skipped_never_shown(store):
    """A diverged run saves NaN weights: it once put "nan% sure" on every student's Draw page, then crashed it."""
    victim = store.list()[0]
    model = keras.saving.load_model(victim.model_path, compile=False)
    weights = model.layers[-1].get_weights()
    weights[0].flat[3] = np.nan
    model.layers[-1].set_weights(weights)
    store.save_model(victim.run_id, model)
    models, skipped = predictor.saved_models(store)
    assert [s.run_id for s in skipped] == [victim.run_id] and "not numbers" in skipped[0].reason
    assert [p.run_id for p in predictor.predict_all(square_of(1), store=store)] == [models[0].run_id]


def test_runs_without_a_model_and_deleted_runs_are_left_out(store):
    store.create(RunSpec("cnn", "centered"))  # queued: no model file yet
    models, skipped = predictor.saved_models(store)
    assert len(models) == 2 and not skipped
    store.delete(models[0].run_id)
    assert [m.run_id for m in predictor.saved_models(store)[0]] == [models[1].run_id]


def test_a_deleted_runs_model_is_freed_even_after_drawing_maps_and_feature_maps(store):
    import gc
    import weakref

    from mnistviz.analysis import features

    models, _ = predictor.saved_models(store)
    predictor.position_maps(square_of(2), models)
    features.drawing_layers(models[0], square_of(2), 3, 0)
    gone = weakref.ref(models[0].model)
    store.delete(models[0].run_id)
    del models
    predictor.saved_models(store)
    gc.collect()
    assert gone() is None  # no process-wide cache keeps a deleted run's model alive


def test_beyond_the_bound_the_newest_models_are_loaded_and_never_reloaded(store, monkeypatch):
    import keras

    monkeypatch.setattr(predictor, "MODELS_KEPT", 1)
    loads = []
    real = keras.saving.load_model
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: loads.append(1) or real(*a, **k))
    newest, older = store.list()
    for _ in range(3):
        models, skipped = predictor.saved_models(store)
        assert [m.run_id for m in models] == [newest.run_id]
        assert [s.run_id for s in skipped] == [older.run_id] and "only the newest 1" in skipped[0].reason
    assert len(loads) <= 1  # loaded once at most (it may still be cached from an earlier test), never again


def test_no_saved_runs_means_no_predictions(tmp_path):
    empty = RunStore(tmp_path / "nothing")
    assert predictor.saved_models(empty) == ([], [])
    assert predictor.predict_all(square_of(2), store=empty) == []


def test_many_sessions_can_predict_at_once(store):
    fields = [square_of(label) for label in range(8)]
    expected = [[p.probabilities for p in predictor.predict_all(f, store=store)] for f in fields]
    results, errors = {}, []

    def session(index):
        try:
            results[index] = [p.probabilities for p in predictor.predict_all(fields[index], store=store)]
        except Exception as error:  # collected, so that the test reports it
            errors.append(error)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for index in range(8):
        assert np.allclose(results[index], expected[index], atol=1e-6)


def test_position_maps_of_a_drawing_cover_every_place_it_fits(store):
    from mnistviz.analysis import shifts

    models, _ = predictor.saved_models(store)
    drawn = shift(square_of(3), 5, -4)
    digit, maps = predictor.position_maps(drawn, models)
    assert 0 <= digit <= 9 and [saved.run_id for saved, _ in maps] == [saved.run_id for saved in models]
    for saved, result in maps:
        assert result.probability.shape == (56, 56) and result.digit == digit
        assert np.isfinite(result.probability).sum() == len(shifts.positions(drawn))  # every place, at step 1
        top, _, left, _ = field.ink_box(drawn)  # the drawing where it is: the map's value at its ink corner
        where_it_is = saved.probabilities(model_view(drawn, saved.view)[None])[0, digit]
        assert result.probability[top, left] == pytest.approx(where_it_is, abs=1e-5)
    assert predictor.position_maps(drawn, models) == (digit, maps)  # answered from the cache
    digit_three, _ = predictor.position_maps(drawn, models, digit=3)
    assert digit_three == 3
