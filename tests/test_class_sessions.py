"""Many browser sessions on one server: one dataset, one set of loaded models, one queue, TensorFlow bounded."""

import threading
import time
from pathlib import Path

import keras
import pytest

from mnistviz import config
from mnistviz.learning import data
from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.cache import BoundedCache
from mnistviz.runs.store import RunStore
from mnistviz.training import fit, jobs
from tests.conftest import open_page, save_fake_run
from tests.test_jobs import _blocking_execute
from tests.test_page_draw import answers, draw, seven

REPO = Path(__file__).resolve().parents[1]


def counting(monkeypatch, owner, name: str) -> list:
    """Replace owner.name by a wrapper that records each call."""
    calls, real = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def test_sessions_share_the_dataset_read_once_per_process(runs_dir, mnist_npz, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_DATA", str(mnist_npz))
    monkeypatch.setattr(data, "_files", BoundedCache(size=2))  # a fresh process: nothing read yet
    reads = counting(monkeypatch, data, "read_npz")
    first, second = open_page("pages/train.py"), open_page("pages/train.py")
    assert not first.error and not second.error
    assert data.load_variant("centered") is data.load_variant("centered")
    assert len(reads) == 1


def test_sessions_share_the_loaded_models(runs_dir, monkeypatch):
    store = RunStore(runs_dir)
    for arch, data_name in (("mlp", "centered"), ("cnn", "offset")):
        spec = RunSpec(arch, data_name)
        run_id = save_fake_run(store, spec, 0.9, 0.9)
        store.save_model(run_id, build_model(arch, spec.image_size))
    loads = counting(monkeypatch, keras.saving, "load_model")
    sessions = [draw(open_page("pages/draw.py"), seven()) for _ in range(2)]
    assert all(len(answers(session)) == 2 for session in sessions)
    assert len(loads) == 2  # one load per model for the whole process, not per session


def test_every_session_trains_through_the_one_queue_and_sees_its_own_place(runs_dir, synthetic_variants, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    sessions = [open_page("pages/train.py") for _ in range(2)]
    for seed, session in enumerate(sessions):
        submit_form(session, seed)
    try:
        first, second = (session.session_state["train_run_id"] for session in sessions)
        manager = jobs.get_manager(runs_dir)
        assert [job.run_id for job in manager.active()] == [first, second]
        deadline = time.monotonic() + 10
        while manager.get(first).snapshot().status != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        sessions[0].run()
        assert "running" in sessions[0].subheader[-1].value
        assert any("place 1 in the queue" in info.value for info in sessions[1].info)
        with monkeypatch.context() as moment:  # the run left the queue between its snapshot and the page's look
            moment.setattr(manager, "queue_position", lambda run_id: None)
            sessions[1].run()
        shown = [info.value for info in sessions[1].info]
        assert "Starting: its training process is on its way." in shown and not any("None" in info for info in shown)
    finally:
        release.set()
    assert manager.wait(first, 10) and manager.wait(second, 10)


def submit_form(session, seed: int) -> None:
    """Fill the Train form with a small run of this seed and press Train."""
    press_train(session, {"Training digits": 600, "Batch size": 50, "Seed": seed})


def press_train(session, numbers: dict) -> None:
    """Type `numbers` (label -> value) into the Train form and press Train."""
    inputs = {n.label: n for n in session.number_input}
    for label, value in numbers.items():
        inputs[label].set_value(value)
    session.get("form_submit_button")[0].click()
    session.run()
    assert not session.exception, session.exception


def test_students_asking_for_the_very_same_run_share_one_training(runs_dir, synthetic_variants, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", "a-class-passcode")  # a class: each student stops only theirs
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    sessions = [open_page("pages/train.py") for _ in range(3)]
    for session in sessions:
        submit_form(session, seed=0)
    try:
        shown = {session.session_state["train_run_id"] for session in sessions}
        manager = jobs.get_manager(runs_dir)
        assert len(shown) == 1 and len(manager.store.list()) == 1  # trained once, watched by three
        (run_id,) = shown
        assert len(manager.get(run_id).owners) == 3
        assert any("3 people asked for this same run" in caption.value for caption in sessions[2].caption)
        for session in sessions[:2]:  # two of the three press Stop: the third still wants it
            session.button(key="stop").click()
            session.run()
            assert not session.exception, session.exception
        assert not manager.get(run_id).stopping
        assert "1 other person asked for this same run and still wants it" in sessions[1].toast[0].value
        assert sessions[0].run().button(key="stop").disabled  # pressed once: it cannot be pressed again
        sessions[2].button(key="stop").click()
        sessions[2].run()
        assert manager.get(run_id).stopping
    finally:
        release.set()
    assert manager.wait(run_id, 10)


@pytest.mark.parametrize(("value", "threads"), [("1", 1), ("0", 0), ("-3", 0), ("many", None), (None, None)])
def test_tf_threads_setting(monkeypatch, value, threads):
    if value is None:
        monkeypatch.delenv("MNISTVIZ_TF_THREADS", raising=False)
    else:
        monkeypatch.setenv("MNISTVIZ_TF_THREADS", value)
    default = max(1, config.cores() - 1)
    assert config.tf_threads() == (default if threads is None else threads)


def test_train_the_missing_ones_queues_them_once_then_the_matrix_says_they_train(
    runs_dir, monkeypatch, train_in_threads
):
    """Pressing twice used to be answered "already asked for"; now the button leaves the cells in training out."""
    monkeypatch.setenv("MNISTVIZ_STUDENT_MINUTES", "1000")  # the notebook's offset CNN: about 27 min here
    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    home = open_page("app.py")
    label = "Train the missing ones with the notebook's settings"
    deadline = time.monotonic() + 30
    while not any(b.label == label for b in home.button) and time.monotonic() < deadline:
        time.sleep(0.2)  # the 2x2 matrix is tested in the background first
        home.run()
    try:
        next(b for b in home.button if b.label == label).click()
        home.run()
        assert not home.exception, home.exception
        assert [toast.value for toast in home.toast][0].startswith("Queued 4 runs.")
        home.run()
        assert not [b for b in home.button if b.label == label]  # nothing left to press twice
        said = [m.value for m in home.markdown]
        assert sum(": Training now" in line or ": Waiting in the training queue" in line for line in said) == 4
        assert len(jobs.get_manager(runs_dir).store.list()) == 4
    finally:
        release.set()


@pytest.mark.parametrize(("passcode", "refused"), [(None, True), ("teacher-passcode-for-the-cap", False)])
def test_the_queue_cap_holds_on_a_single_user_server_and_not_for_the_teacher(
    passcode, refused, runs_dir, synthetic_variants, monkeypatch
):
    """The hostile class queued 129 runs in 13 s on a server with no passcode: without one, the cap holds too."""
    from tests.test_teacher_pages import unlock

    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    monkeypatch.setattr(jobs, "QUEUE_LIMIT", 2)
    if passcode:
        monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", passcode)
    session = open_page("pages/train.py")
    if passcode:
        unlock(session, passcode)
    try:
        for seed in range(4):  # one trains, two wait, and the fourth would be a third waiting
            submit_form(session, seed)
        full = [error.value for error in session.error if "queue is full" in error.value]
        assert bool(full) is refused
        assert len(jobs.get_manager(runs_dir).active()) == (3 if refused else 4)
    finally:
        release.set()
    manager = jobs.get_manager(runs_dir)
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


def test_the_projector_follows_the_class_queue_from_run_to_run(runs_dir, synthetic_variants, monkeypatch):
    """Seen: Train stayed on a finished run for minutes while the preset's next run trained."""
    releases = {seed: threading.Event() for seed in range(2)}

    def execute(spec, run_id, store, progress, stop, *_):
        store.write_status(run_id, "running")
        progress.set_status("running")
        releases[spec.seed].wait(30)
        store.write_status(run_id, "finished")
        progress.finish("finished")
        return "finished"

    monkeypatch.setattr(fit, "execute", execute)
    manager = jobs.get_manager(runs_dir)
    first, second = (
        manager.submit(RunSpec("mlp", "centered", seed=seed, train_size=600, batch_size=50)) for seed in (0, 1)
    )
    try:
        projector = open_page("pages/train.py", query={"run": first.run_id})
        projector.toggle(key="train-follow").set_value(True).run()
        assert projector.query_params["run"] == first.run_id
        releases[0].set()
        assert manager.wait(first.run_id, 30)
        projector.run()
        assert projector.query_params["run"] == second.run_id  # the next run of the queue, without a click
        assert "running" in projector.subheader[0].value or "queued" in projector.subheader[0].value
    finally:
        for release in releases.values():
            release.set()
    assert manager.wait(second.run_id, 30)
