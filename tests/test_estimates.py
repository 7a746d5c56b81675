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
    work = (3 * 12_000 + 5_000) / (3 * 6_000 + 5_000)  # training digits cost three predictions; validation is fixed
    assert estimates.epoch_seconds(spec, records) == pytest.approx(1.5 * work)  # the same batch size's pace
    assert estimates.seconds_for([spec], records) == pytest.approx(10 * 1.5 * work)
    assert estimates.seconds_for([spec, RunSpec("cnn", "offset")], records) is None  # no CNN measured: unknown


def test_tiny_runs_cannot_make_an_ordinary_run_look_long(tmp_path):
    """The hostile class: two 1-second runs of 1,024 digits, and the default MLP was refused as 30 minutes."""
    store = RunStore(tmp_path)
    save_fake_run(store, RunSpec("mlp", "centered", train_size=60_000), 0.9, 0.9)  # the teacher's: 1.5 s an epoch
    for seed in range(3):
        save_fake_run(store, RunSpec("mlp", "centered", train_size=1024, seed=seed), 0.9, 0.9)  # 1.5 s too
    default = RunSpec("mlp", "centered")
    at_its_pace = max(20 * 1.5, estimates.least_seconds(default))  # the largest runs decide
    assert estimates.run_seconds(default, store.list()) == pytest.approx(at_its_pace) and at_its_pace < 60
    assert estimates.over_budget(default, store.list(), 15 * 60) == ""


def test_with_nothing_measured_the_least_time_still_refuses_hours(tmp_path):
    """Seen: a CNN with every Shift Lab variant, 200 epochs on 60,000 digits, queued for 12 hours."""
    variant = RunSpec("cnn", "offset", head="gap", padding="same", pool="blur", epochs=200, batch_size=1024)
    said = estimates.over_budget(variant, [], 15 * 60)
    assert said.startswith("CNN-gap-same-blur offset would train for at least")
    assert "lower the epochs to" in said and "raise the batch size" not in said  # 1024 is not what costs here
    assert estimates.over_budget(RunSpec("mlp", "offset"), [], 15 * 60) == ""  # the notebook's own: minutes
    at_batch_one = estimates.over_budget(RunSpec("mlp", "centered", epochs=200, batch_size=1), [], 15 * 60)
    assert "lower the epochs to" in at_batch_one and "raise the batch size" in at_batch_one
    largest = estimates.over_budget(RunSpec("mlp", "centered", epochs=200, batch_size=8192), [], 60)
    assert "raise the batch size" not in largest  # it is the largest there is


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
