"""Short trainings on real MNIST (MNISTVIZ_DATA, the Keras cache, or a download)."""

import pytest

from mnistviz.jobs import JobManager
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore

pytestmark = pytest.mark.integration


def _train(tmp_path, spec):
    manager = JobManager(RunStore(tmp_path))
    job = manager.submit(spec)
    assert manager.wait(job.run_id, timeout=600)
    record = manager.store.load(job.run_id)
    assert record.status == "finished", record.error
    return record


def test_short_mlp_run_reaches_95_percent(tmp_path):
    # 2 epochs on 20,000 digits; batch 128 gives enough steps (the notebook's 1024 gives only 40)
    record = _train(tmp_path, RunSpec("mlp", "centered", epochs=2, train_size=20000, batch_size=128))
    assert record.val_accuracy >= 0.95
    assert record.test_accuracy >= 0.94


def test_short_offset_cnn_run_learns(tmp_path):
    record = _train(tmp_path, RunSpec("cnn", "offset", epochs=2, train_size=12000, batch_size=64))
    assert record.val_accuracy > 0.90
