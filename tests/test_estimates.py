"""How long runs take on this server, from the runs it trained; which preset runs still need training."""

import pytest

from mnistviz.learning import presets
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training import estimates
from tests.conftest import save_fake_run


def test_the_time_of_a_run_comes_from_earlier_runs_of_the_same_model_and_batch_size(tmp_path):
    store = RunStore(tmp_path)
    save_fake_run(store, RunSpec("mlp", "centered", batch_size=128, train_size=6000), 0.9, 0.9)  # 1.5 s an epoch
    save_fake_run(store, RunSpec("mlp", "centered", batch_size=1024, train_size=60_000), 0.9, 0.9)
    records = store.list()
    spec = RunSpec("mlp", "centered", batch_size=128, epochs=10, train_size=12_000)
    assert estimates.samples_per_second(spec, records) == pytest.approx(4000)  # the same batch size's speed
    assert estimates.seconds_for([spec], records) == pytest.approx(10 * 12_000 / 4000)
    other_batch = RunSpec("mlp", "centered", batch_size=64, epochs=1, train_size=60_000)
    assert estimates.samples_per_second(other_batch, records) == pytest.approx((4000 + 40_000) / 2)
    assert estimates.seconds_for([spec, RunSpec("cnn", "offset")], records) is None  # no CNN measured: unknown


def test_minutes_read_as_a_teacher_plans():
    assert estimates.minutes_text(None) == ""
    assert estimates.minutes_text(20) == "under a minute"
    assert estimates.minutes_text(290) == "about 5 min"


def test_a_preset_run_that_exists_or_waits_is_not_trained_again(tmp_path):
    store = RunStore(tmp_path)
    specs = presets.preset_specs("class")
    save_fake_run(store, specs[0], 0.9, 0.9)
    failed = save_fake_run(store, specs[1], 0.9, 0.9)
    store.write_status(failed, "failed", error="boom")
    store.create(specs[2])  # queued
    save_fake_run(store, RunSpec(specs[3].arch, specs[3].data, seed=7, name=specs[3].name), 0.9, 0.9)  # another seed
    assert presets.not_yet_trained(specs, store.list()) == [specs[1], specs[3]]
