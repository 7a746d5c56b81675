"""One training run: a spec executed by Keras `fit`, progress published batch by batch.

`execute` blocks; a training process (`worker.py`) or `mnistviz train` calls it. It never touches Streamlit.
"""

import threading
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from mnistviz.errors import MnistvizError
from mnistviz.learning import data as mnist_data
from mnistviz.learning.field import FIELD, as_view
from mnistviz.learning.models import compile_model, model_for, model_input
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.curves import RunningMeanDecoder
from mnistviz.runs.progress import RunProgress
from mnistviz.runs.store import RunStore


def training_indices(spec: RunSpec, n_available: int) -> np.ndarray:
    """The training subset: all digits, or a seeded random `train_size` of them (sorted)."""
    if spec.train_size >= n_available:
        return np.arange(n_available)
    rng = np.random.default_rng(spec.seed)
    return np.sort(rng.choice(n_available, size=spec.train_size, replace=False))


def shift_images(images: tf.Tensor, max_shift: int, seed: tf.Tensor) -> tf.Tensor:
    """Move every image of a batch by its own random (dx, dy) in -max_shift..max_shift, zero-filled."""
    size = images.shape[1]
    count = tf.shape(images)[0]
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift]])
    corners = tf.random.stateless_uniform((count, 2), seed=seed, minval=0, maxval=2 * max_shift + 1, dtype=tf.int32)
    rows = corners[:, 0:1] + tf.range(size)[None, :]
    cols = corners[:, 1:2] + tf.range(size)[None, :]
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(out, cols, axis=2, batch_dims=1)


def batch_order(count: int, batch_size: int, seed: int | None) -> tf.data.Dataset:
    """Batches of indices 0..count-1: in order, or with `seed` in a fresh permutation every epoch.

    The permutation is drawn whole and cut into batches, as Keras does for arrays: shuffling a
    dataset of 60,000 scalar indices costs 0.2 CPU seconds an epoch, 5% of a centered MLP's epoch.
    """
    full, rest = divmod(count, batch_size)

    def cut(order: tf.Tensor) -> tf.data.Dataset:
        batched = tf.data.Dataset.from_tensor_slices(tf.reshape(order[: full * batch_size], [full, batch_size]))
        if rest:
            batched = batched.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size :]))
        return batched

    if seed is None:
        return cut(tf.range(count, dtype=tf.int64))

    def permutation(random_value: tf.Tensor) -> tf.Tensor:
        return tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([random_value, tf.constant(0, tf.int64)])
        )

    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
    batched = epoch_seeds.map(permutation).flat_map(cut)
    return batched.apply(tf.data.experimental.assert_cardinality(full + (1 if rest else 0)))


def batches(
    images: np.ndarray,
    labels: np.ndarray,
    spec: RunSpec,
    shuffle: bool,
    augment: bool = False,
    subset: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Batches of float32 model input gathered from the shared uint8 arrays, scaled per batch.

    The images are never copied whole (no float copy, no TensorFlow copy): each batch is gathered
    from the NumPy array, so the offset data costs its 188 MB once per process.
    The images are those of `spec.data`; 28x28 digits for a model that sees the field are placed in
    its middle here, a batch at a time.
    """
    subset = np.arange(len(images)) if subset is None else subset
    labels = labels.astype(np.int32)
    size = images.shape[1]
    margin = (FIELD - size) // 2 if spec.view == "field" else 0
    indices = batch_order(len(subset), spec.batch_size, spec.seed if shuffle else None)
    add_channel = spec.arch == "cnn"

    def gather(index: np.ndarray):
        chosen = subset[index]
        return images[chosen], labels[chosen]

    def to_input(index, random_value=None):
        x, y = tf.numpy_function(gather, [index], [tf.uint8, tf.int32], stateful=False)
        x = tf.ensure_shape(x, [None, size, size])
        y = tf.ensure_shape(y, [None])
        x = tf.cast(x, tf.float32) / 255.0
        if margin:
            x = tf.pad(x, [[0, 0], [margin, margin], [margin, margin]])
        if random_value is not None:
            x = shift_images(x, spec.augment_shift, tf.stack([random_value, tf.constant(0, tf.int64)]))
        if add_channel:
            x = x[..., None]
        return x, y

    if augment and spec.augment_shift > 0:
        randoms = tf.data.Dataset.random(seed=spec.seed + 1, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip(indices, randoms).map(to_input)
    else:
        dataset = indices.map(to_input)
    return dataset.prefetch(2)


CHECKPOINT_SECONDS = 10.0


class PublishProgress(keras.callbacks.Callback):
    """Publishes every batch and epoch, saves history each epoch and weights every `checkpoint_seconds`, honours Stop.

    A batch is published with its own loss and accuracy, decoded from the running means Keras logs.

    Saving a .keras file takes 50-150 ms, 4% of a 2-second MLP epoch, so weights are saved after the
    first epoch and then at the first epoch end at least `checkpoint_seconds` after the last save
    (every epoch of a CNN); `execute` saves the final weights when `fit` returns. A crash loses at
    most that much training. The history on disk is written with the weights, so an interrupted run
    shows the epochs its saved weights hold; the pages read a training run's history from memory.

    `async_safe` lets Keras run the batch hook in its own threads instead of the training loop, which
    then never waits for a batch's loss to be read: the MLPs trained 1.3x faster. Those threads may
    finish out of order, so batches are published strictly in order; Keras waits for all of them
    before `on_epoch_end`.
    """

    async_safe = True

    def __init__(
        self,
        spec: RunSpec,
        run_id: str,
        progress: RunProgress,
        stop: threading.Event,
        store: RunStore,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        train_digits: int | None = None,
    ):
        super().__init__()
        self.spec, self.run_id, self.progress, self.stop, self.store = spec, run_id, progress, stop, store
        self.train_digits = train_digits or spec.train_size  # fewer when the data set is smaller than asked
        self.checkpoint_seconds = checkpoint_seconds
        self._saved_at: float | None = None
        self._epoch_started = 0.0
        self._epoch_samples = 0
        self._lock = threading.Lock()
        self._arrived: dict[int, dict] = {}  # logs of batches whose hooks ran ahead of an earlier batch's
        self._next_batch = 0
        self._decoder = RunningMeanDecoder()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.monotonic()
        self._epoch_samples = 0
        self._arrived, self._next_batch = {}, 0
        self._decoder.start_epoch()

    def on_train_batch_end(self, batch, logs=None):
        with self._lock:
            self._arrived[batch] = logs or {}
            while self._next_batch in self._arrived:
                self._publish(self._next_batch, self._arrived.pop(self._next_batch))
                self._next_batch += 1
        if self.stop.is_set():
            self.model.stop_training = True

    def _publish(self, batch: int, logs: dict) -> None:
        size = min(self.spec.batch_size, self.train_digits - self._epoch_samples)
        self._epoch_samples += size
        own = self._decoder.batch(size, logs)
        self.progress.record_batch(batch + 1, size, own["loss"], own["accuracy"])

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {
            "epoch": epoch + 1,
            "loss": logs.get("loss"),
            "accuracy": logs.get("accuracy"),
            "val_loss": logs.get("val_loss"),
            "val_accuracy": logs.get("val_accuracy"),
            "seconds": round(time.monotonic() - self._epoch_started, 3),
            "samples": self._epoch_samples,
            "complete": self._epoch_samples >= self.train_digits,
        }
        self.progress.record_epoch(row)
        now = time.monotonic()
        if self._saved_at is None or now - self._saved_at >= self.checkpoint_seconds:
            # the weights first, then the history they go with: a kill between the two leaves the
            # history an epoch short of the weights, never the run claiming epochs its weights lack
            self.store.save_model(self.run_id, self.model)
            self.store.write_history(self.run_id, self.progress.history())
            self._saved_at = now


def execute(
    spec: RunSpec,
    run_id: str,
    store: RunStore,
    progress: RunProgress,
    stop: threading.Event,
    observers: Sequence[keras.callbacks.Callback] = (),
    executor: str = "local",
) -> str:
    """Train `spec` into run `run_id`; returns the final status. Never raises for a failed run.

    `observers` are callbacks run after mnistviz's own, so they see each epoch's work whole (the
    benchmarks time epochs with one). `executor` is recorded with the run: where it trained.
    """
    if stop.is_set():
        store.write_status(run_id, "stopped", ended=time.time())
        progress.finish("stopped")
        return "stopped"
    try:
        store.write_status(run_id, "running", started=time.time(), executor=executor)
        progress.set_status("running")
        variant = mnist_data.load_variant(spec.data)
        subset = training_indices(spec, len(variant.y_train))
        train = batches(variant.x_train, variant.y_train, spec, shuffle=True, augment=True, subset=subset)
        val = batches(variant.x_val, variant.y_val, spec, shuffle=False)
        model = model_for(spec)
        steps_per_epoch = int(np.ceil(len(subset) / spec.batch_size))
        decay_steps = steps_per_epoch * spec.epochs if spec.lr_schedule == "cosine" else 0
        compile_model(model, spec.learning_rate, decay_steps)
        progress.start(steps_per_epoch=steps_per_epoch, check_samples=len(variant.y_val))
        callbacks = [PublishProgress(spec, run_id, progress, stop, store, train_digits=len(subset)), *observers]
        if spec.patience:
            callbacks.insert(
                0,
                keras.callbacks.EarlyStopping(
                    monitor="val_accuracy", patience=spec.patience, restore_best_weights=True, verbose=0
                ),
            )
        model.fit(train, validation_data=val, epochs=spec.epochs, callbacks=callbacks, shuffle=False, verbose=0)
        status = "stopped" if stop.is_set() else "finished"
        store.save_model(run_id, model)
        store.write_history(run_id, progress.history())
        evaluation, predictions = evaluate(model, spec, variant)
        store.write_evaluation(run_id, evaluation, predictions)
        store.write_status(run_id, status, ended=time.time())
        progress.finish(status, test_accuracy=evaluation["test_accuracy"])
        return status
    except Exception as error:  # a failed run is reported, not raised: the worker must survive
        message = str(error) if isinstance(error, MnistvizError) else f"{type(error).__name__}: {error}"
        try:
            store.write_status(run_id, "failed", ended=time.time(), error=message)
        except (OSError, MnistvizError):
            pass
        progress.finish("failed", error=message)
        return "failed"


def evaluate(model: keras.Model, spec: RunSpec, variant: mnist_data.Variant) -> tuple[dict, np.ndarray]:
    """Test accuracy and the predicted digit of every test image."""
    predictions = predict_digits(model, as_view(variant.x_test, spec.view), spec.arch)
    accuracy = float(np.mean(predictions == variant.y_test))
    return {"test_accuracy": accuracy, "params": int(model.count_params()), "test_size": len(predictions)}, predictions


def predict_digits(model: keras.Model, images: np.ndarray, arch: str, batch_size: int = 256) -> np.ndarray:
    """The most probable digit for each uint8 image, predicted in batches."""
    out = [
        np.argmax(model.predict_on_batch(model_input(images[i : i + batch_size], arch)), axis=1)
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(out).astype(np.uint8)
