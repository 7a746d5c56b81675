import threading
import time

import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training import fit, jobs, tasks
from mnistviz.training.jobs import JobManager, get_manager
from tests.threaded import ThreadExecutor


def _blocking_execute(release: threading.Event):
    def execute(spec, run_id, store, progress, stop, *_):
        store.write_status(run_id, "running")
        progress.set_status("running")
        deadline = time.monotonic() + 30
        while not release.wait(0.02) and not stop.is_set() and time.monotonic() < deadline:
            pass  # training, as far as the queue can tell: a stop ends it at the next "batch"
        status = "stopped" if stop.is_set() or store.stop_requested(run_id) else "finished"
        store.write_status(run_id, status)
        progress.finish(status)
        return status

    return execute


def wait_until_running(manager: JobManager, run_id: str) -> None:
    """The worker thread marks a run running a moment after it leaves the queue."""
    deadline = time.monotonic() + 10
    while manager.store.load(run_id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_second_run_waits_in_the_queue(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor(1))
    first = manager.submit(RunSpec("mlp", "centered"))
    second = manager.submit(RunSpec("cnn", "centered"))
    assert [job.run_id for job in manager.active()] == [first.run_id, second.run_id]
    assert manager.queue_position(second.run_id) == 1 and manager.queue_position(first.run_id) is None
    assert manager.store.load(second.run_id).status == "queued"
    release.set()
    assert manager.wait(first.run_id, 10) and manager.wait(second.run_id, 10)
    assert manager.store.load(second.run_id).status == "finished"
    assert manager.active() == []


def test_concurrency_two_runs_two_at_once(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor(2))
    jobs = [manager.submit(RunSpec("mlp", "centered")) for _ in range(3)]
    assert manager.queue_position(jobs[2].run_id) == 1 and manager.queue_position(jobs[1].run_id) is None
    release.set()
    assert all(manager.wait(job.run_id, 10) for job in jobs)


def test_stopping_a_queued_run_removes_it_from_the_queue(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor())
    first = manager.submit(RunSpec("mlp", "centered"))
    second = manager.submit(RunSpec("mlp", "offset"))
    assert manager.stop(second.run_id)
    assert manager.queue_position(second.run_id) is None
    assert manager.store.load(second.run_id).status == "stopped"
    assert manager.stop(first.run_id)
    release.set()
    assert manager.wait(first.run_id, 10)
    assert manager.store.load(first.run_id).status == "stopped"
    assert not manager.stop(first.run_id)  # nothing left to stop


def test_one_manager_per_process_and_runs_directory(tmp_path):
    assert get_manager(tmp_path) is get_manager(tmp_path)
    assert get_manager(tmp_path) is not get_manager(tmp_path / "other")


def test_finished_jobs_are_forgotten_beyond_a_bound_and_read_from_disk_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "FINISHED_KEPT", 2)
    release = threading.Event()
    release.set()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor())
    submitted = [manager.submit(RunSpec("mlp", "centered")) for _ in range(4)]
    for job in submitted:
        assert job.done.wait(10)
    remembered = [job.run_id for job in submitted if manager.get(job.run_id) is not None]
    assert remembered == [job.run_id for job in submitted[-2:]]
    assert all(manager.wait(job.run_id, 1) for job in submitted)
    assert [manager.store.load(job.run_id).status for job in submitted] == ["finished"] * 4


def test_finished_tasks_are_forgotten_beyond_a_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "FINISHED_KEPT", 2)
    runner = JobManager(RunStore(tmp_path), ThreadExecutor()).tasks
    submitted = [runner.submit(("task", n), lambda report, n=n: n) for n in range(5)]
    assert all(task.done.wait(10) for task in submitted)
    assert [n for n in range(5) if runner.get(("task", n)) is not None] == [3, 4]


def test_a_limit_refuses_what_would_pass_it_all_or_nothing(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor())
    manager.submit_all([RunSpec("mlp", "centered")] * 3, owner="student", limit=4)
    with pytest.raises(MnistvizError, match="each student may have 4"):
        manager.submit_all([RunSpec("cnn", "centered")] * 2, owner="student", limit=4)
    assert len(manager.store.list()) == 3  # the refused pair left no folder
    manager.submit(RunSpec("cnn", "centered"), owner="another student", limit=4)
    manager.submit_all([RunSpec("cnn", "offset")] * 5, owner=None)  # the command line: no session, no limit
    assert len(manager.active()) == 9
    release.set()
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


def test_runs_a_stopped_server_left_waiting_are_queued_again_in_order(tmp_path, monkeypatch):
    import json

    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    store = RunStore(tmp_path)
    ids = [store.create(RunSpec("mlp", "centered", seed=n), owner=f"owner {n}") for n in range(3)]
    trained = store.create(RunSpec("cnn", "centered"))
    for n, run_id in enumerate([*ids, trained]):  # as a killed server leaves them: its pid is gone
        path = store.folder(run_id) / "status.json"
        status = json.loads(path.read_text())
        status.update(pid=None, created=100.0 - n, status="running" if run_id == trained else "queued")
        path.write_text(json.dumps(status))
    assert {record.status for record in store.list()} == {"interrupted"}

    manager = JobManager(store, ThreadExecutor())
    assert manager.requeue_abandoned() == ids[::-1]  # by when they were queued; the started one is not
    assert manager.requeue_abandoned() == []  # once
    assert [job.run_id for job in manager.active()] == ids[::-1]
    assert [manager.get(run_id).owner for run_id in ids] == ["owner 0", "owner 1", "owner 2"]  # still theirs
    assert store.load(trained).status == "interrupted"
    release.set()
    assert all(manager.wait(run_id, 30) for run_id in ids)
    assert {store.load(run_id).status for run_id in ids} == {"finished"}


def test_the_class_queue_has_a_ceiling_and_a_failed_batch_leaves_nothing(tmp_path, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor())
    for n in range(4):  # one running, three waiting: four students with fresh tokens
        manager.submit_all([RunSpec("mlp", "centered")], owner=f"student {n}", limit=4, queue_cap=3)
    with pytest.raises(MnistvizError, match="queue is full"):
        manager.submit_all([RunSpec("mlp", "centered")], owner="student 9", limit=4, queue_cap=3)
    with pytest.raises(MnistvizError, match="queue is full"):  # no limit of its own (single-user mode): the cap holds
        manager.submit_all([RunSpec("mlp", "centered")], owner="anyone", queue_cap=3)
    real_create, calls = manager.store.create, []

    def disk_full_on_the_second(spec, owner=None):
        calls.append(1)
        if len(calls) == 2:
            raise MnistvizError("cannot save a new run (No space left on device)")
        return real_create(spec, owner)

    monkeypatch.setattr(manager.store, "create", disk_full_on_the_second)
    with pytest.raises(MnistvizError, match="No space"):
        manager.submit_all([RunSpec("cnn", "centered")] * 2, owner=None)
    assert len(manager.store.list()) == 4 and len(manager.active()) == 4  # the first of the pair was undone
    release.set()
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


class NoProcesses:
    """An executor that cannot start anything: the machine is out of processes."""

    name, slots = "local", 1

    def start(self, runs, run_id):
        raise OSError(11, "Resource temporarily unavailable", "/srv/secret/python3")


def test_a_run_whose_process_cannot_start_fails_with_a_message_and_the_queue_goes_on(tmp_path):
    manager = JobManager(RunStore(tmp_path), NoProcesses())
    first, second = manager.submit(RunSpec("mlp", "centered")), manager.submit(RunSpec("cnn", "centered"))
    for job in (first, second):
        assert job.done.is_set()
        record = manager.store.load(job.run_id)
        assert record.status == "failed" and "could not start (BlockingIOError)" in record.error
        assert "/srv" not in record.error  # no server path reaches a page
    assert manager.active() == []
