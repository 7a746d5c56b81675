"""Identical requests train once: a request for a run that is queued, training or finished joins it."""

import threading
from dataclasses import replace

import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning import presets
from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import access
from mnistviz.runs.access import Access
from mnistviz.runs.store import RunStore
from mnistviz.training import fit
from mnistviz.training.jobs import JobManager, finished_by_spec
from tests.conftest import save_fake_run
from tests.test_jobs import _blocking_execute, wait_until_running
from tests.threaded import ThreadExecutor

SPEC = RunSpec("mlp", "centered", epochs=1, batch_size=50, train_size=600)


@pytest.fixture
def blocked(tmp_path, monkeypatch):
    """A job manager whose runs train until released."""
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor())
    yield manager
    release.set()
    for job in manager.active():
        manager.wait(job.run_id, 10)


def test_the_same_spec_joins_the_run_already_training_or_waiting(blocked):
    training_now = blocked.submit(SPEC, owner="a", reuse=True)
    waiting = blocked.submit(RunSpec("cnn", "offset"), owner="a", reuse=True)
    assert blocked.submit(SPEC, owner="b", reuse=True) is training_now
    assert blocked.submit(RunSpec("cnn", "offset"), owner="c", reuse=True) is waiting
    assert training_now.owners == {"a", "b"} and waiting.owners == {"a", "c"}
    assert len(blocked.store.list()) == 2


def test_any_different_setting_is_a_different_run_but_a_name_is_only_a_label(blocked):
    first = blocked.submit(SPEC, owner="a", reuse=True)
    for other in (replace(SPEC, seed=1), replace(SPEC, epochs=2), replace(SPEC, head="gmp", arch="cnn")):
        assert blocked.submit(other, owner="b", reuse=True) is not first
    assert blocked.submit(replace(SPEC, name="mine"), owner="c", reuse=True) is first  # the same model
    assert len(blocked.store.list()) == 4


def test_without_reuse_the_same_spec_trains_again(blocked):
    first = blocked.submit(SPEC, owner="a")
    assert blocked.submit(SPEC, owner="a") is not first
    assert len(blocked.submit_all([SPEC, SPEC], owner="a")) == 2 and len(blocked.store.list()) == 4
    assert len({job.run_id for job in blocked.submit_all([replace(SPEC, seed=5)] * 2, reuse=True)}) == 1


def test_a_finished_run_is_joined_but_not_a_stopped_or_model_less_one(tmp_path):
    store = RunStore(tmp_path)
    manager = JobManager(store, ThreadExecutor())
    model_less = save_fake_run(store, SPEC, 0.9, 0.9)
    finished = save_fake_run(store, SPEC, 0.9, 0.9)
    store.save_model(finished, build_model("mlp", SPEC.image_size))
    stopped = save_fake_run(store, replace(SPEC, seed=3), 0.9, 0.9)
    store.save_model(stopped, build_model("mlp", SPEC.image_size))
    store.write_status(stopped, "stopped")
    joined = manager.submit(SPEC, owner="b", reuse=True)
    assert joined.run_id == finished != model_less and joined.done.is_set()
    assert manager.active() == [] and len(store.list()) == 3  # nothing trains
    again = manager.submit(replace(SPEC, seed=3), owner="b", reuse=True)
    assert again.run_id not in (stopped, finished)
    manager.stop(again.run_id)


def test_thirty_students_pressing_the_class_preset_at_once_train_four_runs(blocked):
    specs = presets.preset_specs("class")
    barrier = threading.Barrier(30)
    shown: list[list[str]] = []

    def student(n: int) -> None:
        barrier.wait()
        shown.append([job.run_id for job in blocked.submit_all(specs, owner=f"student-{n}", limit=4, reuse=True)])

    threads = [threading.Thread(target=student, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(shown) == 30 and len({tuple(ids) for ids in shown}) == 1  # everyone sees the same four runs
    assert len(blocked.store.list()) == len(specs) == 4
    assert all(len(job.owners) == 30 for job in blocked.active())


def test_joining_costs_a_student_nothing_of_their_limit(blocked):
    blocked.submit(SPEC, owner="a", reuse=True)
    blocked.submit(replace(SPEC, seed=1), owner="b", limit=1, reuse=True)
    assert blocked.submit(SPEC, owner="b", limit=1, reuse=True).owner == "a"  # joined, not refused
    with pytest.raises(MnistvizError, match="each student may have 1"):
        blocked.submit(replace(SPEC, seed=2), owner="b", limit=1, reuse=True)


def test_a_shared_run_stops_when_everyone_who_asked_presses_stop_or_the_teacher_does(blocked):
    job = blocked.submit(SPEC, owner="a", reuse=True)
    blocked.submit(SPEC, owner="b", reuse=True)
    wait_until_running(blocked, job.run_id)
    said = access.stop_run(blocked, job.run_id, Access(session="a", passcode_set=True))
    assert "1 other person asked for this same run and still wants it" in said and not job.stopping
    with pytest.raises(MnistvizError, match="only the teacher"):
        access.stop_run(blocked, job.run_id, Access(session="c", passcode_set=True))
    assert access.stop_run(blocked, job.run_id, Access(session="b", passcode_set=True)) == access.STOPPING
    assert job.stopping

    other = blocked.submit(replace(SPEC, seed=9), owner="a", reuse=True)
    blocked.submit(replace(SPEC, seed=9), owner="b", reuse=True)
    assert access.stop_run(blocked, other.run_id, Access(session="t", passcode_set=True, teacher=True))
    assert other.stopping


def test_joining_a_run_started_from_the_command_line_does_not_let_a_student_stop_it(blocked):
    from_cli = blocked.submit(SPEC)  # no session started it
    assert blocked.submit(SPEC, owner="h", reuse=True) is from_cli  # a student joins it and watches it
    assert from_cli.owners == frozenset()
    with pytest.raises(MnistvizError, match="started by someone else"):
        access.stop_run(blocked, from_cli.run_id, Access(session="h", passcode_set=True))
    assert not from_cli.stop_asked and not from_cli.done.is_set()
    teacher = Access(session="t", passcode_set=True, teacher=True)
    assert access.stop_run(blocked, from_cli.run_id, teacher) == access.STOPPING


def test_a_blur_run_saved_before_reflection_padding_is_not_joined_but_trained_anew(tmp_path):
    import json
    import zipfile

    store = RunStore(tmp_path)
    spec = RunSpec("cnn", "centered", head="gmp", padding="same", pool="blur", epochs=1, train_size=100, batch_size=50)
    old = save_fake_run(store, spec, 0.9, 0.9)
    layer = {"class_name": "BlurPool2D", "config": {"padding": "same"}}  # zero padding, as saved before
    with zipfile.ZipFile(store.root / old / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps({"config": {"layers": [layer]}}))
    assert spec not in finished_by_spec(store.list())
    assert not store.load(old).model_is_current
