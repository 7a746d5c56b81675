"""A fair class (issue 22): what a hostile class tried, and what holds now.

Tried: sessions without the owner cookie to get four more runs each (27 of them queued 101 runs); one
student's four runs ahead of every classmate's first; a legal run of 14 hours on the only trainer;
forged form values that Streamlit rounded or replaced (1.7 epochs trained 1, `rnn` trained an MLP).
"""

import threading

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1.element_tree import Radio

from mnistviz.learning.spec import RunSpec
from mnistviz.runs import teacher_link
from mnistviz.runs.store import RunStore
from mnistviz.training import estimates, fit, jobs
from mnistviz.training.jobs import JobManager
from tests.conftest import open_page, save_fake_run, shown
from tests.test_class_sessions import press_train, submit_form
from tests.test_jobs import _blocking_execute
from tests.threaded import ThreadExecutor

PASSCODE = "a-class-passcode"


def errors(session) -> list[str]:
    return [shown(error.value) for error in session.error]


def test_eight_cookieless_sessions_from_one_computer_queue_no_more_than_its_limit(
    runs_dir, synthetic_variants, monkeypatch
):
    """Each session without the cookie is a new student to the per-student limit, but not a new computer."""
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    try:
        sessions = [open_page("pages/train.py") for _ in range(8)]  # eight fresh sessions: eight owners
        for seed, session in enumerate(sessions):
            submit_form(session, seed)
        manager = jobs.get_manager(runs_dir)
        assert len(manager.active()) == 6  # MNISTVIZ_RUNS_PER_ADDRESS's default
        assert len({job.owner for job in manager.active()}) == 6
        for late in sessions[6:]:
            assert any("this computer already has 6 run(s)" in said for said in errors(late))
        teacher = open_page("pages/train.py", query={"teacher": teacher_link.token(runs_dir)})
        submit_form(teacher, 99)  # the teacher is not held to the computer's limit
        assert not errors(teacher) and len(manager.active()) == 7
    finally:
        release.set()
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


def test_the_address_limit_is_a_setting(runs_dir, synthetic_variants, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    monkeypatch.setenv("MNISTVIZ_RUNS_PER_ADDRESS", "2")
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    try:
        sessions = [open_page("pages/train.py") for _ in range(3)]
        for seed, session in enumerate(sessions):
            submit_form(session, seed)
        assert any("each computer may have 2 at a time" in said for said in errors(sessions[2]))
    finally:
        release.set()
    manager = jobs.get_manager(runs_dir)
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


def fourteen_hours(form) -> None:
    """The hostile student's legal run: an MLP, 200 epochs at batch size 1 on all 60,000 digits."""
    press_train(form, {"Epochs": 200, "Batch size": 1, "Training digits": 60_000})


@pytest.mark.parametrize("passcode", [PASSCODE, None])  # a class, and a single-user server: the budget holds in both
def test_a_run_over_the_time_budget_is_refused_for_a_student_and_accepted_for_the_teacher(
    passcode, runs_dir, synthetic_variants, monkeypatch
):
    if passcode:
        monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", passcode)
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    student = open_page("pages/train.py")
    fourteen_hours(student)
    (said,) = [said for said in errors(student) if "would train for" in said]
    assert "would train for at least 5.4 h on this server" in said  # 200 x 65,000 batches of at least 1.5 ms
    assert "a student's run may take at most 15 min" in said and "lower the epochs to" in said
    assert RunStore(runs_dir).list() == []
    teacher = open_page("pages/train.py", query={"teacher": teacher_link.token(runs_dir)})
    try:
        fourteen_hours(teacher)
        assert not errors(teacher)
        (record,) = RunStore(runs_dir).list()
        assert (record.spec.epochs, record.spec.batch_size) == (200, 1)
    finally:
        release.set()
    manager = jobs.get_manager(runs_dir)
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


def test_the_budget_is_a_setting_and_uses_the_speed_measured_here(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    save_fake_run(store, RunSpec("mlp", "centered", batch_size=128, train_size=6000), 0.9, 0.9)  # 1.5 s an epoch
    records = store.list()
    spec = RunSpec("mlp", "centered", batch_size=128, epochs=40, train_size=60_000)  # 40 x 12 s: 8 min
    assert estimates.over_budget(spec, records, 15 * 60) == ""
    said = estimates.over_budget(spec, records, 5 * 60)
    assert said.startswith("MLP centered would train for about 8 min on this server")
    assert "lower the epochs to 24 or fewer" in said
    monkeypatch.setenv("MNISTVIZ_STUDENT_MINUTES", "5")
    from mnistviz import config

    assert config.student_minutes() == 5
    for nonsense in ("", "nan", "-3", "0", "soon"):
        monkeypatch.setenv("MNISTVIZ_STUDENT_MINUTES", nonsense)
        assert config.student_minutes() == 15


def test_a_run_that_trains_twice_its_budget_is_stopped_and_keeps_its_epochs(tmp_path, synthetic_variants):
    """The estimate can be wrong (a busy machine, a model never trained here): the server's clock is not."""
    manager = JobManager(RunStore(tmp_path), ThreadExecutor(1))
    job = manager.submit(RunSpec("mlp", "centered", epochs=200, batch_size=10, train_size=600))
    job.budget = 1.5  # as if it had been estimated to take 1.5 s: stopped once it has trained for 3 s
    assert manager.wait(job.run_id, 60)
    record = manager.store.load(job.run_id)
    assert record.status == "stopped" and "twice the 2 s a student's run may take" in record.error
    assert 0 < record.epochs_done < 200 and record.test_accuracy is not None
    assert (manager.store.folder(job.run_id) / "model.keras").is_file()


def test_the_queue_takes_turns_between_students(tmp_path, monkeypatch):
    """Four runs from one student never delay a classmate's first."""
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor(1))
    try:
        first = manager.submit_all([RunSpec("mlp", "centered", seed=seed) for seed in range(4)], owner="ann")
        second = manager.submit_all([RunSpec("cnn", "centered", seed=seed) for seed in range(2)], owner="bob")
        third = manager.submit(RunSpec("mlp", "offset"), owner="cat")
        order = [job.run_id for job in manager.active()]  # the one training, then the queue in order
        expected = [first[0], second[0], third, first[1], second[1], first[2], first[3]]
        assert order == [job.run_id for job in expected]
        assert manager.queue_position(third.run_id) == 2
    finally:
        release.set()
    assert all(manager.wait(job.run_id, 30) for job in [*first, *second, third])


def test_sessions_without_the_cookie_share_their_computers_turns(tmp_path, monkeypatch):
    """The hostile class: three cookie-less sessions of one computer put three first runs ahead of a classmate's."""
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor(1))
    try:
        ours = [
            manager.submit_all([RunSpec("mlp", "centered", seed=seed)], owner=f"s{seed}", address="10.0.0.7")[0]
            for seed in range(4)
        ]
        (theirs,) = manager.submit_all([RunSpec("cnn", "centered")], owner="classmate", address="10.0.0.8")
        assert manager.queue_position(theirs.run_id) == 1  # behind the one training, ahead of the other three
    finally:
        release.set()
    assert all(manager.wait(job.run_id, 30) for job in [*ours, theirs])


def forge(monkeypatch, key: str, value: str) -> None:
    """What a crafted websocket message sends: a radio value the widget does not offer."""
    real = Radio._widget_state.fget

    def crafted(radio):
        state = real(radio)
        if radio.key == key:
            state = WidgetState(id=state.id, string_value=value)
        return state

    monkeypatch.setattr(Radio, "_widget_state", property(crafted))


def test_a_forged_choice_is_refused_with_its_field_named_never_replaced(runs_dir, synthetic_variants, monkeypatch):
    monkeypatch.setattr(jobs.JobManager, "_start_waiting", lambda self: None)
    at = open_page("pages/train.py")
    forge(monkeypatch, "form-arch", "rnn")
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any("Architecture must be one of mlp, cnn, not 'rnn'" in said for said in errors(at)), errors(at)
    assert RunStore(runs_dir).list() == []  # no MLP trained in its place


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        ("Epochs", 1.7, "epochs must be a whole number, not 1.7"),
        ("Epochs", 1e308, "epochs must be between 1 and 200, not 1e+308"),
        ("Seed", 2.5, "seed must be a whole number, not 2.5"),
        ("Batch size", 64.5, "batch size must be a whole number, not 64.5"),
        ("Name (optional)", "x" * 81, "a run name must be text of at most 80 characters"),
        ("Learning rate", "0." + "0" * 50 + "1", "learning rate must be a number like 0.001"),
    ],
)
def test_a_forged_number_or_text_is_refused_never_rounded_or_cut(
    label, value, message, runs_dir, synthetic_variants, monkeypatch
):
    monkeypatch.setattr(jobs.JobManager, "_start_waiting", lambda self: None)
    at = open_page("pages/train.py")
    inputs = {n.label: n for n in [*at.number_input, *at.text_input]}
    inputs[label].set_value(value)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any(message in said for said in errors(at)), errors(at)
    assert RunStore(runs_dir).list() == []


def test_a_stopped_run_says_why_the_server_stopped_it(runs_dir, synthetic_variants):
    store = RunStore(runs_dir)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    store.write_status(run_id, "stopped", error="it trained for twice the 15 min a student's run may take")
    at = open_page("pages/train.py", query={"run": run_id})
    assert any("Stopped: it trained for twice the 15 min" in shown(info.value) for info in at.info)


def test_a_joined_run_never_traps_its_first_asker(tmp_path, monkeypatch):
    """The hostile class: joining a classmate's run took away the classmate's Stop and kept it in their limits."""
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = JobManager(RunStore(tmp_path), ThreadExecutor(1))
    spec = RunSpec("mlp", "centered", seed=777)
    try:
        (job,) = manager.submit_all([spec], owner="victim", address="10.0.0.7", reuse=True)
        manager.submit_all([spec], owner="joiner", address="10.0.0.8", reuse=True)
        assert manager.ask_to_stop(job.run_id, "victim") == 1  # the joiner still wants it: it goes on
        mine = [active for active in manager.active() if active.owner == "victim" or active.address == "10.0.0.7"]
        assert mine == []  # no longer the victim's, nor its computer's: a new run of theirs fits again
        assert (job.owner, job.address) == ("joiner", "10.0.0.8")
        assert manager.ask_to_stop(job.run_id, "joiner") == 0 and job.stopping  # the last one who wanted it
    finally:
        release.set()
    assert manager.wait(job.run_id, 30)


def test_only_the_teacher_measures_finer_shift_maps(runs_dir, monkeypatch):
    """Read in the code by the hostile reviewer: a step of 1 with 5,000 digits a shift, 60 times the work,
    computed in the server's own process, for any student."""
    from tests.conftest import save_fake_run as saved

    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    saved(RunStore(runs_dir), RunSpec("mlp", "centered"), 0.9, 0.9)
    student = open_page("pages/compare.py")
    assert all(
        box.disabled for box in student.number_input if box.label in ("Grid step (pixels)", "Test digits per shift")
    )
    teacher = open_page("pages/compare.py", query={"teacher": teacher_link.token(runs_dir)})
    assert not any(box.disabled for box in teacher.number_input)
