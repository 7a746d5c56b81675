"""The teacher passcode on the pages (AppTest): what a student cannot do to everyone's runs, and the teacher can."""

import threading

import pytest
from streamlit.testing.v1 import AppTest

from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training import fit
from mnistviz.training.jobs import get_manager
from tests.conftest import open_page, save_fake_run
from tests.test_jobs import _blocking_execute, wait_until_running

PASSCODE = "owl-42-tree"


def unlock(at: AppTest, passcode: str = PASSCODE) -> AppTest:
    at.text_input(key="teacher_passcode_entry").input(passcode)
    at.run()
    assert not at.exception, at.exception
    return at


def buttons(at: AppTest, label: str) -> list:
    return [b for b in at.button if b.label == label]


@pytest.fixture
def passcode(monkeypatch):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    return PASSCODE


@pytest.fixture
def two_runs(runs_dir):
    store = RunStore(runs_dir)
    return [save_fake_run(store, RunSpec(arch, "centered"), 0.95, 0.95) for arch in ("mlp", "cnn")]


@pytest.fixture
def someone_elses_runs(runs_dir, monkeypatch, train_in_threads):
    """Another session's run training in this process' job manager, and a second one waiting behind it."""
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = get_manager(runs_dir)
    jobs = [manager.submit(RunSpec(arch, "centered"), owner="another-session") for arch in ("mlp", "cnn")]
    wait_until_running(manager, jobs[0].run_id)
    yield manager, jobs
    release.set()
    for job in jobs:
        manager.wait(job.run_id, 10)


def test_delete_is_hidden_from_students_when_a_passcode_is_set(passcode, two_runs, runs_dir):
    at = open_page("pages/compare.py")
    assert not buttons(at, "Delete")
    assert any("Only the teacher can delete runs" in info.value for info in at.info)
    assert len(RunStore(runs_dir).list()) == 2


def test_the_teacher_unlocks_delete_with_the_passcode(passcode, two_runs, runs_dir):
    at = unlock(open_page("pages/compare.py"))
    assert any("Teacher mode" in s.value for s in at.sidebar.success)
    at.multiselect(key="doomed").set_value([two_runs[0]])
    at.checkbox(key="confirm-delete").check()
    at.run()
    buttons(at, "Delete")[0].click()
    at.run()
    assert not at.exception
    assert len(RunStore(runs_dir).list()) == 1


def test_a_wrong_passcode_unlocks_nothing(passcode, two_runs):
    at = unlock(open_page("pages/compare.py"), "owl-43-tree")
    assert any("not the teacher passcode" in e.value for e in at.sidebar.error)
    assert not buttons(at, "Delete")


def test_guessing_again_at_once_is_refused_without_a_check(passcode, two_runs, monkeypatch):
    from mnistviz.runs import access

    monkeypatch.setattr(access, "GUARD", access.PasscodeGuard(clock=lambda: 1000.0))  # "at once", however slow
    at = unlock(open_page("pages/compare.py"), "owl-43-tree")
    at = unlock(at, "owl-44-tree")
    at = unlock(at, PASSCODE)  # right, but too soon after two wrong guesses: not even compared
    assert any("Too many wrong passcodes" in e.value for e in at.sidebar.error)
    assert not buttons(at, "Delete")


@pytest.mark.parametrize("setting", ["", "   ", "short"])
def test_a_blank_or_weak_passcode_unlocks_nobody(setting, two_runs, monkeypatch):
    """Fail closed: only the teacher link unlocks then (tests/test_teacher_link.py)."""
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", setting)
    at = open_page("pages/compare.py")
    assert any("The teacher passcode is locked for everyone" in e.value for e in at.sidebar.error)
    assert not at.sidebar.text_input  # nothing to unlock with
    assert not buttons(at, "Delete") and any("Only the teacher" in i.value for i in at.info)


def test_a_server_without_a_passcode_says_it_is_single_user(two_runs):
    at = open_page("app.py")
    assert any("Single-user mode" in i.value for i in at.sidebar.info)


def test_the_passcode_can_come_from_secrets_toml(two_runs):
    at = open_page("pages/compare.py", secrets={"teacher_passcode": PASSCODE})
    assert not buttons(at, "Delete")
    at = unlock(at)
    assert buttons(at, "Delete")


def test_a_student_cannot_stop_another_sessions_run(passcode, someone_elses_runs, synthetic_variants):
    manager, (running, _) = someone_elses_runs
    at = open_page("pages/train.py")
    stop = at.button(key="stop")
    assert stop.disabled
    assert "someone else started this run" in stop.help.lower()
    stop.proto.disabled = False  # a crafted request clicks it anyway: Streamlit and access.stop_run refuse it
    stop.click()
    at.run()
    assert not at.exception
    assert not running.stopping
    assert manager.store.load(running.run_id).status == "running"


def test_the_teacher_stops_another_sessions_run(passcode, someone_elses_runs, synthetic_variants):
    manager, (running, _) = someone_elses_runs
    at = unlock(open_page("pages/train.py"))
    assert not at.button(key="stop").disabled
    at.button(key="stop").click()
    at.run()
    assert not at.exception and not at.error
    assert running.stopping


def test_only_the_teacher_sees_clear_the_queue(passcode, someone_elses_runs, synthetic_variants):
    manager, (running, waiting) = someone_elses_runs
    at = open_page("pages/train.py")
    assert not [b for b in at.sidebar.button if b.key == "clear_queue"]
    at = unlock(at)
    (clear,) = [b for b in at.sidebar.button if b.key == "clear_queue"]
    assert clear.label == "Clear the queue (1 waiting)"
    clear.click()
    at.run()
    assert not at.exception
    assert [job.run_id for job in manager.active()] == [running.run_id]
    assert [record.run_id for record in manager.store.list()] == [running.run_id]  # no stopped folder left behind


def test_a_single_user_server_lets_anyone_stop_and_clear(someone_elses_runs, synthetic_variants, monkeypatch):
    monkeypatch.delenv("MNISTVIZ_TEACHER_PASSCODE", raising=False)
    at = open_page("pages/train.py")
    assert not at.sidebar.text_input  # no passcode to ask for
    assert not at.button(key="stop").disabled
    assert [b for b in at.sidebar.button if b.key == "clear_queue"]


def test_a_student_may_queue_only_a_few_runs_and_is_told_why_not_more(
    passcode, runs_dir, monkeypatch, train_in_threads
):
    monkeypatch.setattr(fit, "execute", _blocking_execute(threading.Event()))
    monkeypatch.setenv("MNISTVIZ_RUNS_PER_STUDENT", "2")
    at = open_page("pages/train.py")
    for seed in range(3):  # three different runs: the third is refused
        at.number_input(key="form-seed").set_value(seed)
        at.get("form_submit_button")[0].click()
        at.run()
    assert any("each student may have 2 at a time" in error.value for error in at.error)
    assert len(RunStore(runs_dir).list()) == 2
    at = unlock(at)  # the teacher is not limited
    at.number_input(key="form-seed").set_value(3)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.error and len(RunStore(runs_dir).list()) == 3
    manager = get_manager(runs_dir)
    for job in manager.active():
        manager.stop(job.run_id)


def test_a_student_keeps_stop_on_their_own_run_across_a_reload_and_no_one_else_gets_it(
    passcode, runs_dir, monkeypatch, train_in_threads
):
    from mnistviz.ui import session

    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    at = open_page("pages/train.py")
    at.get("form_submit_button")[0].click()
    at.run()
    run_id = at.session_state["train_run_id"]
    token = at.session_state["owner_token"]
    (cookie,) = [h for h in at.get("html") if session.OWNER_COOKIE in str(h.proto)]  # handed to the browser
    assert f"{session.OWNER_COOKIE}={token};" in str(cookie.proto) and "SameSite=Strict" in str(cookie.proto)
    assert not at.button(key="stop").disabled and token not in str(at.query_params)
    try:
        monkeypatch.setattr(session, "owner_cookie", lambda: token)  # a reload: a new session, the same browser
        reloaded = open_page("pages/train.py", {"run": run_id})
        assert not reloaded.button(key="stop").disabled
        monkeypatch.setattr(session, "owner_cookie", lambda: None)  # a classmate opening the run's address
        someone_else = open_page("pages/train.py", {"run": run_id})
        assert someone_else.button(key="stop").disabled
        reloaded.button(key="stop").click()
        reloaded.run()
        assert get_manager(runs_dir).get(run_id).stopping
        assert token not in (RunStore(runs_dir).folder(run_id) / "status.json").read_text()  # only its hash is saved
    finally:
        release.set()
