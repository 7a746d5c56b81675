import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from mnistviz.analysis import predictor
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.progress import RunProgress
from mnistviz.runs.store import RunStore
from mnistviz.show import display
from mnistviz.training import fit
from mnistviz.training.jobs import JobManager


def test_shift_images_moves_ink_and_fills_with_zeros():
    image = np.zeros((1, 8, 8), np.float32)
    image[0, 3, 4] = 1.0
    for seed in range(20):
        out = fit.shift_images(tf.constant(image), 2, tf.constant([seed, 0], tf.int64)).numpy()
        rows, cols = np.nonzero(out[0])
        assert len(rows) == 1 and abs(rows[0] - 3) <= 2 and abs(cols[0] - 4) <= 2


def test_shift_images_covers_every_shift():
    image = np.zeros((400, 9, 9), np.float32)
    image[:, 4, 4] = 1.0
    out = fit.shift_images(tf.constant(image), 1, tf.constant([3, 0], tf.int64)).numpy()
    positions = {tuple(np.argwhere(o)[0]) for o in out}
    assert positions == {(r, c) for r in (3, 4, 5) for c in (3, 4, 5)}


def test_training_subset_is_seeded_and_sized():
    spec = RunSpec("mlp", "centered", train_size=500, batch_size=100, seed=4)
    a = fit.training_indices(spec, 60000)
    assert len(a) == 500 and len(set(a)) == 500
    assert np.array_equal(a, fit.training_indices(spec, 60000))


def test_a_finished_run_saves_history_model_and_test_accuracy(tmp_path, synthetic_variants):
    manager = JobManager(RunStore(tmp_path))
    job = manager.submit(RunSpec("mlp", "centered", epochs=2, batch_size=50, train_size=600))
    assert manager.wait(job.run_id, timeout=120)
    record = manager.store.load(job.run_id)
    assert record.status == "finished" and record.epochs_done == 2
    assert record.has_model and record.test_accuracy > 0.5
    batches = manager.store.history(record.run_id)["batches"]
    assert len(batches) == 24 and batches[-1]["samples_seen"] == 1200
    for epoch in record.epochs:  # each batch's own values average to the epoch's: no cliff at the boundary
        own = [row for row in batches if row["epoch"] == epoch["epoch"]]
        for metric in ("loss", "accuracy"):
            assert np.mean([row[metric] for row in own]) == pytest.approx(epoch[metric], abs=1e-4)
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(record.epochs[0])
    predictions = manager.store.test_predictions(job.run_id)
    assert predictions.shape == (100,)


def test_asking_for_more_digits_than_there_are_trains_on_all_of_them_in_complete_epochs(tmp_path, synthetic_variants):
    available = len(synthetic_variants["centered"].y_train)
    manager = JobManager(RunStore(tmp_path))
    job = manager.submit(RunSpec("mlp", "centered", epochs=1, batch_size=128, train_size=16_000))
    assert manager.wait(job.run_id, timeout=120)
    (epoch,) = manager.store.load(job.run_id).epochs
    assert epoch["samples"] == available and epoch["complete"]
    assert manager.store.history(job.run_id)["batches"][-1]["samples_seen"] == available


def test_stop_ends_within_a_batch_or_two_and_keeps_what_was_learned(tmp_path, synthetic_variants, monkeypatch):
    stop_after = 3
    seen = threading.Event()
    original = fit.PublishProgress.on_train_batch_end

    def stop_at_batch(self, batch, logs=None):
        if batch + 1 == stop_after:
            self.stop.set()
            seen.set()
        original(self, batch, logs)

    monkeypatch.setattr(fit.PublishProgress, "on_train_batch_end", stop_at_batch)
    manager = JobManager(RunStore(tmp_path))
    job = manager.submit(RunSpec("mlp", "centered", epochs=5, batch_size=50, train_size=600))
    assert manager.wait(job.run_id, timeout=120) and seen.is_set()
    record = manager.store.load(job.run_id)
    assert record.status == "stopped"
    # batch hooks run beside the training loop (async_safe), so the loop may start one more batch
    assert stop_after <= len(manager.store.history(record.run_id)["batches"]) <= stop_after + 2
    assert record.epochs_done == 1 and record.epochs[0]["complete"] is False
    assert record.has_model and record.test_accuracy is not None


def test_progress_can_be_read_from_another_thread_while_training(tmp_path, synthetic_variants):
    spec = RunSpec("mlp", "centered", epochs=3, batch_size=10, train_size=600)
    store = RunStore(tmp_path)
    run_id = store.create(spec)
    progress = RunProgress(run_id, spec.epochs)
    halfway, looked = threading.Event(), threading.Event()

    class PauseHalfway(keras.callbacks.Callback):
        """Holds training in the middle of epoch 2 until the test has looked at the progress."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 30 and not halfway.is_set():
                halfway.set()
                assert looked.wait(60)

    worker = threading.Thread(
        target=fit.execute, args=(spec, run_id, store, progress, threading.Event(), [PauseHalfway()])
    )
    worker.start()
    try:
        assert halfway.wait(120)
        seen = progress.snapshot()
    finally:
        looked.set()
        worker.join(120)
    assert seen.status == "running" and seen.epoch == 1 and len(seen.epochs) == 1  # one epoch done, the run goes on
    assert 60 < len(seen.batches) <= 91  # epoch 1's 60 batches, and epoch 2's as far as it got
    final = progress.snapshot()
    assert final.status == "finished" and final.epoch == 3 and final.samples_seen == 1800
    assert len(final.batches) > len(seen.batches)


def test_batches_are_published_in_order_when_their_hooks_finish_out_of_order(tmp_path):
    spec = RunSpec("mlp", "centered", epochs=1, batch_size=100, train_size=250)
    progress = RunProgress("run", spec.epochs)
    callback = fit.PublishProgress(spec, "run", progress, threading.Event(), RunStore(tmp_path))
    callback.on_epoch_begin(0)
    callback.on_train_batch_end(1, {"loss": 0.5, "accuracy": 0.8})  # batch 2's hook finished first
    assert progress.snapshot().batches == ()  # held back until batch 1 arrives
    callback.on_train_batch_end(0, {"loss": 0.9, "accuracy": 0.6})
    callback.on_train_batch_end(2, {"loss": 0.4, "accuracy": 0.9})
    rows = progress.snapshot().batches
    assert [(row["step"], row["samples_seen"]) for row in rows] == [(1, 100), (2, 200), (3, 250)]
    # each batch's own loss, decoded from the running means 0.9, 0.5 and 0.4 Keras logged
    assert [row["loss"] for row in rows] == pytest.approx([0.9, 0.1, 0.0])


def test_weights_are_saved_after_the_first_epoch_then_at_most_every_checkpoint_interval(tmp_path, monkeypatch):
    spec = RunSpec("mlp", "centered", epochs=4, batch_size=100, train_size=100)
    saves = []
    store = RunStore(tmp_path)
    monkeypatch.setattr(store, "save_model", lambda run_id, model: saves.append(clock[0]))
    monkeypatch.setattr(store, "write_history", lambda run_id, history: None)
    clock = [0.0]
    monkeypatch.setattr(fit.time, "monotonic", lambda: clock[0])
    callback = fit.PublishProgress(
        spec, "run", RunProgress("run", spec.epochs), threading.Event(), store, checkpoint_seconds=10
    )
    for epoch, seconds in enumerate([3, 3, 3, 12]):  # epoch ends at 3, 6, 9, 21 s
        callback.on_epoch_begin(epoch)
        clock[0] += seconds
        callback.on_epoch_end(epoch, {"loss": 0.5})
    assert saves == [3, 21]


def _epochs(dataset, count):
    return [np.concatenate([batch.numpy() for batch in dataset]) for _ in range(count)]


def test_every_epoch_visits_each_digit_once_in_a_new_seeded_order():
    first, second = _epochs(fit.batch_order(250, 100, seed=3), 2)
    assert sorted(first) == sorted(second) == list(range(250))
    assert not np.array_equal(first, second)
    again = _epochs(fit.batch_order(250, 100, seed=3), 2)
    assert all(np.array_equal(a, b) for a, b in zip(again, [first, second], strict=True))
    assert [len(batch) for batch in fit.batch_order(250, 100, seed=3)] == [100, 100, 50]


def test_validation_batches_keep_their_order():
    (order,) = _epochs(fit.batch_order(250, 100, seed=None), 1)
    assert list(order) == list(range(250))


def test_batches_gather_the_chosen_digits_scaled_to_one():
    images = np.arange(6, dtype=np.uint8).reshape(6, 1, 1).repeat(28, 1).repeat(28, 2)
    labels = np.arange(6, dtype=np.uint8)
    spec = RunSpec("cnn", "centered", batch_size=4)
    (x, y), (x_last, y_last) = list(fit.batches(images, labels, spec, shuffle=False, subset=np.array([1, 3, 5, 0, 2])))
    assert x.shape == (4, 28, 28, 1) and x_last.shape == (1, 28, 28, 1)
    assert list(y.numpy()) == [1, 3, 5, 0] and list(y_last.numpy()) == [2]
    assert np.allclose(x.numpy()[:, 0, 0, 0], np.array([1, 3, 5, 0]) / 255)


def test_keras_knows_how_many_batches_an_epoch_has():
    assert fit.batch_order(250, 100, seed=3).cardinality().numpy() == 3


def test_the_history_on_disk_never_claims_epochs_the_saved_weights_lack(tmp_path, monkeypatch):
    """Killed at any moment, an interrupted run shows the epochs its model file holds."""
    spec = RunSpec("mlp", "centered", epochs=4, batch_size=100, train_size=100)
    store = RunStore(tmp_path)
    run_id = store.create(spec)
    weights_epoch = []
    monkeypatch.setattr(
        store, "save_model", lambda run_id, model: weights_epoch.append(len(progress.history()["epochs"]))
    )
    clock = [0.0]
    monkeypatch.setattr(fit.time, "monotonic", lambda: clock[0])
    progress = RunProgress(run_id, spec.epochs)
    callback = fit.PublishProgress(spec, run_id, progress, threading.Event(), store, checkpoint_seconds=10)
    on_disk = []
    for epoch, seconds in enumerate([3, 3, 3, 12]):  # weights saved after epochs 1 and 4 only
        callback.on_epoch_begin(epoch)
        clock[0] += seconds
        callback.on_epoch_end(epoch, {"loss": 0.5})
        on_disk.append(store.load(run_id).epochs_done)
    assert weights_epoch == [1, 4]
    assert on_disk == [1, 1, 1, 4]  # never ahead of the weights


def test_a_run_of_millions_of_batches_keeps_a_bounded_evenly_spread_history(monkeypatch):
    from mnistviz.runs import progress as progress_module

    monkeypatch.setattr(progress_module, "MAX_BATCH_ROWS", 100)
    progress = RunProgress("run", epochs_total=1)
    for step in range(1, 10_001):
        progress.record_batch(step, 1, loss=1.0 / step, accuracy=0.5)
    rows = progress.snapshot().batches
    assert 50 <= len(rows) <= 100  # bounded, and never thinned below half the bound
    seen = [row["samples_seen"] for row in rows]
    assert seen[0] == 1 and seen[-1] > 10_000 - 10_000 // len(rows) * 2  # from the start to near the end
    gaps = set(np.diff(seen))
    assert len(gaps) == 1  # evenly spread
    assert len(progress.history()["batches"]) == len(rows)


def test_the_time_left_counts_each_validation_and_the_final_test(monkeypatch):
    from mnistviz.runs import progress as progress_module

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    progress = RunProgress("run", epochs_total=2)
    progress.start(steps_per_epoch=10, check_samples=5000)
    for step in range(1, 11):  # one epoch: 10 batches of 100 digits, a second each
        clock[0] += 1
        progress.record_batch(step, 100, 0.5, 0.5)
    clock[0] += 4  # its validation took 4 s
    progress.record_epoch({"epoch": 1})
    assert progress.snapshot().seconds_left == pytest.approx(10 + 4 + 4)  # epoch 2, its validation, the test
    for step in range(1, 11):
        clock[0] += 1
        progress.record_batch(step, 100, 0.5, 0.5)
    assert progress.snapshot().seconds_left == pytest.approx(8)  # all batches done: not "0 s left"
    assert display.time_left(progress.snapshot()).startswith("finishing")  # and no number that may run out


def test_the_time_left_follows_the_pace_now_not_the_slow_start(monkeypatch):
    """Seen: 14 min left, then 6, then 4, for a run that ended 2 min later: its start counted into every batch."""
    from mnistviz.runs import progress as progress_module

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    progress = RunProgress("run", epochs_total=2)
    progress.start(steps_per_epoch=100, check_samples=0)
    clock[0] += 30  # loading, building, tracing: the first batch ends 30 s in
    progress.record_batch(1, 100, 0.5, 0.5)
    for step in range(2, 51):  # then a batch every 0.1 s
        clock[0] += 0.1
        progress.record_batch(step, 100, 0.5, 0.5)
    snapshot = progress.snapshot()
    assert snapshot.seconds_per_step == pytest.approx(0.1)
    assert snapshot.seconds_left == pytest.approx(150 * 0.1)  # 150 batches to go at 0.1 s: not 150 x 0.7 s
    assert display.time_left(snapshot) == "15 s left"


def test_before_the_first_validation_its_time_is_estimated_from_the_training_speed(monkeypatch):
    from mnistviz.runs import progress as progress_module

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    progress = RunProgress("run", epochs_total=1)
    progress.start(steps_per_epoch=10, check_samples=3000)
    for step in range(1, 6):
        clock[0] += 1
        progress.record_batch(step, 100, 0.5, 0.5)  # 100 digits a second
    assert progress.snapshot().seconds_left == pytest.approx(5 + 2 * 3000 / 300)


def test_centered_digits_reach_a_field_model_in_the_middle_of_the_field():
    images = np.zeros((4, 28, 28), np.uint8)
    images[:, 0, 0] = 255  # the top-left pixel of each digit
    spec = RunSpec("cnn", "centered", head="gmp", batch_size=4, train_size=10)
    (x, _), *_ = list(fit.batches(images, np.arange(4), spec, shuffle=False).as_numpy_iterator())
    assert x.shape == (4, 56, 56, 1)
    assert np.argwhere(x[0, :, :, 0] == 1.0).tolist() == [[14, 14]] and x.sum() == 4


def test_a_global_pooling_cnn_trains_on_centered_digits_in_the_field_and_reloads(tmp_path, synthetic_variants):
    manager = JobManager(RunStore(tmp_path))
    spec = RunSpec("cnn", "centered", head="gmp", padding="same", pool="blur", epochs=1, batch_size=50, train_size=600)
    job = manager.submit(spec)
    assert manager.wait(job.run_id, timeout=180)
    record = manager.store.load(job.run_id)
    assert record.status == "finished", record.error
    assert record.spec == spec and record.label == "CNN-gmp-same-blur centered"
    saved = predictor.saved_model(manager.store, job.run_id)  # loads with safe_mode, checks its 56x56 input
    assert saved.view == "field" and saved.model.input_shape == (None, 56, 56, 1)
    assert manager.store.test_predictions(job.run_id).shape == (100,)
