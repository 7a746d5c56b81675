"""Short trainings on real MNIST (MNISTVIZ_DATA, the Keras cache, or a download), and what they show."""

import pytest

from mnistviz.analysis import shift_maps
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training.jobs import JobManager

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A briefly trained centered MLP and offset CNN, trained once for this module."""
    manager = JobManager(RunStore(tmp_path_factory.mktemp("runs")))
    specs = {
        # 2 epochs on 20,000 digits; batch 128 gives enough steps (the notebook's 1024 gives only 40)
        "mlp": RunSpec("mlp", "centered", epochs=2, train_size=20000, batch_size=128),
        "cnn": RunSpec("cnn", "offset", epochs=2, train_size=12000, batch_size=64),
    }
    jobs = {name: manager.submit(spec) for name, spec in specs.items()}
    for job in jobs.values():
        assert manager.wait(job.run_id, timeout=900)
    return manager.store, {name: manager.store.load(job.run_id) for name, job in jobs.items()}


def test_short_mlp_run_reaches_95_percent(trained):
    _, runs = trained
    assert runs["mlp"].status == "finished", runs["mlp"].error
    assert runs["mlp"].val_accuracy >= 0.95
    assert runs["mlp"].test_accuracy >= 0.94


def test_short_offset_cnn_run_learns(trained):
    _, runs = trained
    assert runs["cnn"].status == "finished", runs["cnn"].error
    assert runs["cnn"].val_accuracy > 0.90


def test_a_moved_digit_breaks_the_centered_mlp_but_not_the_offset_cnn(trained):
    store, runs = trained
    mlp = shift_maps.compute_shift_map(store, runs["mlp"].run_id, step=6, samples=400)
    cnn = shift_maps.compute_shift_map(store, runs["cnn"].run_id, step=6, samples=400)
    assert mlp.at(0, 0) > 0.9
    assert mlp.at(6, 0) < mlp.at(0, 0) - 0.3  # far below
    assert cnn.at(6, 0) > cnn.at(0, 0) - 0.05  # close to its shift-0 accuracy
    assert shift_maps.cached_shift_map(store.load(runs["mlp"].run_id), 6, 400) == mlp


def test_the_2x2_matrix_tells_the_notebooks_story(trained):
    store, _ = trained
    cells = shift_maps.cross_matrix(store)
    assert set(cells) == {("mlp", "centered"), ("cnn", "offset")}
    mlp = cells[("mlp", "centered")]
    assert mlp["centered"] > 0.9 and mlp["offset"] < 0.5
    cnn = cells[("cnn", "offset")]
    assert cnn["centered"] > 0.85 and cnn["offset"] > 0.9
