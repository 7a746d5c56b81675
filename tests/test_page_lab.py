"""The Shift Lab page under AppTest: the grid's button, predict-then-reveal, the class's tally, the results."""

import pytest

from mnistviz import lab, measures, shift_results
from mnistviz.models import model_for
from mnistviz.store import RunStore
from tests.conftest import open_page, save_fake_run
from tests.test_teacher_pages import unlock

PASSCODE = "lab-teacher-passcode"


@pytest.fixture(autouse=True)
def no_guesses():
    """Every test starts with a class that has not answered (the answers are the server process's)."""
    lab.CLASS_GUESSES.clear()
    yield
    lab.CLASS_GUESSES.clear()


@pytest.fixture
def teacher(monkeypatch):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)


@pytest.fixture
def measured_grid(runs_dir, synthetic_variants):
    """The grid's five centered-trained runs with untrained models, measured (on the synthetic test set)."""
    store = RunStore(runs_dir)
    for cell in lab.grid()[:5]:
        run_id = save_fake_run(store, cell.spec, 0.9, 0.9)
        store.save_model(run_id, model_for(cell.spec))
        measures.compute_measures(store, run_id)
        shift_results.compute_shift_map(store, run_id, 2, 300)
    return store


def texts(at) -> str:
    return "\n".join(element.value for kind in (at.markdown, at.caption, at.info, at.success) for element in kind)


def test_with_no_runs_the_teacher_is_offered_the_whole_grid(runs_dir):
    at = open_page("pages/lab.py")
    assert [b.label for b in at.button if b.label.startswith("Train the")] == ["Train the 9 missing grid runs"]
    assert "Which ones will still read a digit moved 12 px right and 12 px down" in texts(at)
    assert "No grid run is trained and measured yet." not in texts(at)  # the question comes first, for anyone
    next(b for b in at.button if b.key == "lab-reveal").click()
    at.run()
    assert "No grid run is trained and measured yet." in texts(at)


def test_the_button_queues_the_grid_once(runs_dir, monkeypatch):
    submitted = []
    monkeypatch.setattr("mnistviz.ui.submit", lambda specs: submitted.append(specs) or [])
    at = open_page("pages/lab.py")
    next(b for b in at.button if b.key == "lab-train").click()
    at.run()
    assert [spec.label for spec in submitted[0]] == [cell.spec.label for cell in lab.grid()]


def test_a_student_sees_the_results_only_after_guessing(teacher, measured_grid):
    at = open_page("pages/lab.py")
    assert "The teacher trains the grid" in texts(at)
    assert "What happened" not in [header.value for header in at.subheader]
    assert not [b for b in at.button if b.key == "lab-reveal"]  # only the teacher may skip the question
    assert not at.dataframe
    at.button_group(key="lab-guess-models").set_value(["CNN-gmp-same", "CNN"])
    next(b for b in at.button if b.label == "Lock in my guess").click()
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Your guess was right about" in shown and "of 5 models" in shown
    assert "you said yes" in shown and "you said no" in shown
    assert "Your guess: **CNN and CNN-gmp-same** will still read a digit in the corner" in shown
    (table,) = at.dataframe
    assert list(table.value["model"]) == ["MLP", "CNN", "CNN-gmp", "CNN-gmp-same", "CNN-gmp-same-blur"]
    assert table.value["consistency"].between(0, 100).all() and table.value["corner kept"].between(0, 150).all()
    assert "Lock in my guess" not in [b.label for b in at.button]


def test_the_teacher_sees_the_class_tally(teacher, measured_grid):
    student = open_page("pages/lab.py")
    student.button_group(key="lab-guess-models").set_value(["MLP"])
    next(b for b in student.button if b.label == "Lock in my guess").click()
    student.run()
    at = unlock(open_page("pages/lab.py"), PASSCODE)
    assert "What happened" not in [header.value for header in at.subheader]  # not on the projector before asked
    next(b for b in at.button if b.key == "lab-reveal").click()
    at.run()
    assert "(1 answered): MLP 1, CNN 0" in texts(at)
    at.selectbox(key="lab-flip-model").set_value("CNN").run()  # any later rerun keeps the results shown
    assert "What happened" in [header.value for header in at.subheader]
    next(b for b in at.button if b.key == "lab-clear-guesses").click()
    at.run()
    assert "answered" not in texts(at)
