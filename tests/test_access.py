"""The teacher's rules without Streamlit: who may stop, delete and clear the queue."""

import threading

import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import access
from mnistviz.runs.access import Access
from mnistviz.runs.store import RunStore
from mnistviz.training import fit
from mnistviz.training.jobs import JobManager
from tests.test_jobs import _blocking_execute, wait_until_running
from tests.threaded import ThreadExecutor

STUDENT = Access(session="student-a", passcode_set=True)
OTHER_STUDENT = Access(session="student-b", passcode_set=True)
TEACHER = Access(session="student-b", passcode_set=True, teacher=True)
SINGLE_USER = Access(session="anyone", passcode_set=False)


def test_without_a_passcode_everything_is_allowed():
    assert SINGLE_USER.may_stop(frozenset({"someone-else"})) and SINGLE_USER.may_stop(frozenset())
    assert SINGLE_USER.may_delete() and SINGLE_USER.may_clear_queue()


def test_with_a_passcode_a_student_may_stop_only_their_own_runs():
    assert STUDENT.may_stop(frozenset({"student-a"})) and STUDENT.may_stop(frozenset({"student-b", "student-a"}))
    assert not STUDENT.may_stop(frozenset({"student-b"}))
    assert not STUDENT.may_stop(frozenset())  # a run started from the command line belongs to no session
    assert not Access(session=None, passcode_set=True).may_stop(frozenset())
    assert not STUDENT.may_delete() and not STUDENT.may_clear_queue()


def test_the_teacher_may_do_everything():
    assert TEACHER.may_stop(frozenset({"student-a"})) and TEACHER.may_stop(frozenset())
    assert TEACHER.may_delete() and TEACHER.may_clear_queue()


@pytest.mark.parametrize(
    ("entered", "passcode", "matches"),
    [("owl", "owl", True), ("Owl", "owl", False), ("", "owl", False), ("owl", None, False), ("", "", False)],
)
def test_passcode_matches_exactly(entered, passcode, matches):
    assert access.passcode_matches(entered, passcode) is matches


@pytest.fixture
def class_queue(tmp_path, monkeypatch):
    """Student a trains, student b waits in the queue behind; training blocks until released."""
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor())
    first = manager.submit(RunSpec("mlp", "centered"), owner="student-a")
    second = manager.submit(RunSpec("cnn", "centered"), owner="student-b")
    wait_until_running(manager, first.run_id)
    yield manager, first, second
    release.set()
    manager.wait(first.run_id, 10)


def test_stopping_another_students_run_is_refused_and_it_keeps_training(class_queue):
    manager, first, _ = class_queue
    with pytest.raises(MnistvizError, match="only the teacher"):
        access.stop_run(manager, first.run_id, OTHER_STUDENT)
    assert not first.stopping and manager.queue_position(first.run_id) is None
    assert manager.store.load(first.run_id).status == "running"
    assert access.stop_run(manager, first.run_id, STUDENT)
    assert first.stopping


def test_the_teacher_stops_anyones_run(class_queue):
    manager, first, second = class_queue
    assert access.stop_run(manager, second.run_id, TEACHER)
    assert manager.store.load(second.run_id).status == "stopped"


def test_clearing_the_queue_needs_the_teacher_and_spares_the_running_run(class_queue):
    manager, first, second = class_queue
    with pytest.raises(MnistvizError, match="only the teacher"):
        access.clear_queue(manager, STUDENT)
    assert manager.queue_position(second.run_id) == 1
    assert access.clear_queue(manager, TEACHER) == [second.run_id]
    assert [job.run_id for job in manager.active()] == [first.run_id]
    assert second.done.is_set() and not manager.store.folder(second.run_id).exists()  # never started: gone
    assert [record.run_id for record in manager.store.list()] == [first.run_id]
    assert not first.stopping


def test_deleting_runs_needs_the_teacher(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create(RunSpec("mlp", "centered"))
    with pytest.raises(MnistvizError, match="only the teacher"):
        access.delete_runs(store, [run_id], STUDENT)
    assert [r.run_id for r in store.list()] == [run_id]
    access.delete_runs(store, [run_id], TEACHER)
    assert store.list() == []


@pytest.mark.parametrize(
    ("environment", "secret", "problem", "expected"),
    [
        (None, None, "", "single user"),  # nothing set at all: the one way to a single-user server
        ("correct horse battery", None, "", "passcode"),
        (None, "correct horse battery", "", "passcode"),
        ("   ", None, "", "blank"),
        ("", None, "", "blank"),
        (None, "  ", "", "blank"),
        ("short", None, "", "shorter than 8"),
        (None, None, "TOMLDecodeError", "cannot be read"),
    ],
)
def test_a_passcode_setting_fails_closed_unless_nothing_is_set(environment, secret, problem, expected):
    setting = access.PasscodeSetting.read(environment, secret, problem)
    if expected == "single user":
        assert setting.single_user and setting.passcode is None
    elif expected == "passcode":
        assert setting.passcode == "correct horse battery" and not setting.single_user
    else:
        assert setting.passcode is None and not setting.single_user and expected in setting.problem


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_wrong_guesses_make_a_client_wait_longer_and_longer_and_are_not_even_checked_meanwhile(caplog):
    clock = Clock()
    guard = access.PasscodeGuard(clock=clock)
    waits = []
    for _ in range(5):
        attempt = guard.attempt("10.0.0.7", "guess", "correct horse battery")
        assert attempt.checked and not attempt.unlocked
        waits.append(attempt.wait)
        refused = guard.attempt("10.0.0.7", "correct horse battery", "correct horse battery")
        assert not refused.checked and not refused.unlocked  # even the right passcode waits its turn
        clock.now += attempt.wait
    assert waits == [1, 2, 4, 8, 16]
    assert guard.attempt("10.0.0.8", "correct horse battery", "correct horse battery").unlocked  # others unaffected
    assert "guess" not in caplog.text and "correct horse" not in caplog.text  # logged, never the guess
    assert caplog.text.count("wrong teacher passcode from client 10.0.0.7") == 5


def test_the_whole_server_takes_a_bounded_number_of_guesses_a_minute():
    clock = Clock()
    guard = access.PasscodeGuard(per_minute=20, clock=clock)
    checked = sum(guard.attempt(f"client {n}", "guess", "passcode!!").checked for n in range(100))
    assert checked == 20  # a hundred fresh clients (reloads) get twenty guesses between them
    assert not guard.attempt("teacher", "passcode!!", "passcode!!").checked  # the server's minute is used up
    clock.now += 60
    assert guard.attempt("teacher", "passcode!!", "passcode!!").unlocked
