"""The Shift Lab page under AppTest: the grid's button, predict-then-reveal, the class's tally, the results."""

import json
import shutil
import zipfile

import pytest

from mnistviz.analysis import lab
from mnistviz.runs.store import RunStore
from tests.conftest import measured_lab_grid, open_page, save_fake_run
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


@pytest.fixture(scope="module")
def measured_runs(tmp_path_factory):
    """The grid's six centered runs with untrained models, measured (tests/conftest.py), and the same runs
    relabelled as seed 1's: {seed: folder of that seed's runs}."""
    measured = measured_lab_grid(tmp_path_factory)
    again = tmp_path_factory.mktemp("seed1")
    for folder in measured.iterdir():
        copy = again / (folder.name[:-1] + ("0" if folder.name[-1] != "0" else "1"))  # another run id
        shutil.copytree(folder, copy, copy_function=shutil.copy2)
        spec = json.loads((copy / "spec.json").read_text())
        (copy / "spec.json").write_text(json.dumps({**spec, "seed": 1}))
    return {0: measured, 1: again}


def copy_runs(source, runs_dir) -> RunStore:
    """The measured runs in this test's runs folder; copy2 keeps the model files' times, so the results stay cached."""
    runs_dir.mkdir(exist_ok=True)
    for folder in source.iterdir():
        shutil.copytree(folder, runs_dir / folder.name, copy_function=shutil.copy2)
    return RunStore(runs_dir)


@pytest.fixture
def measured_grid(runs_dir, synthetic_variants, measured_runs):
    """The grid's six centered-trained runs of seed 0, measured."""
    return copy_runs(measured_runs[0], runs_dir)


def texts(at) -> str:
    return "\n".join(element.value for kind in (at.markdown, at.caption, at.info, at.success) for element in kind)


def test_with_no_runs_the_teacher_is_offered_the_whole_grid(runs_dir):
    at = open_page("pages/lab.py")
    assert [b.label for b in at.button if b.label.startswith("Train the")] == ["Train the 10 missing grid runs"]
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
    assert "Your guess was right about" in shown and "of 6 models" in shown
    assert "you said yes" in shown and "you said no" in shown
    assert "Your guess: **CNN and CNN-gmp-same** will still read a digit in the corner" in shown
    table = next(frame for frame in at.dataframe if "sees" in frame.value)
    assert list(table.value["model"]) == ["MLP", "CNN", "CNN-field", "CNN-gmp", "CNN-gmp-same", "CNN-gmp-same-blur"]
    assert list(table.value["sees"]) == ["window", "window", "field", "field", "field", "field"]
    percent = [
        float(value.rstrip("%")) for column in ("consistency", "one-pixel stability") for value in table.value[column]
    ]
    assert all(0 <= value <= 100 for value in percent) and "(" not in "".join(table.value["consistency"])  # one seed
    assert (table.value["multiply-adds"] > 0).all()
    assert "after 2 epochs on 16,000 centered digits (one seed)" in shown
    assert "Zhang 2019" in shown and "One-pixel stability" in shown
    assert "Lock in my guess" not in [b.label for b in at.button]


def test_the_teacher_sees_the_class_tally(teacher, measured_grid):
    student = open_page("pages/lab.py")
    student.button_group(key="lab-guess-models").set_value(["MLP"])
    next(b for b in student.button if b.label == "Lock in my guess").click()
    student.run()
    at = unlock(open_page("pages/lab.py"), PASSCODE)
    assert "What happened" not in [header.value for header in at.subheader]  # not on the projector before asked
    assert "(1 answered): MLP 1, CNN 0" in texts(at)  # the tally comes in before any result is shown
    next(b for b in at.button if b.key == "lab-reveal").click()
    at.run()
    assert "(1 answered): MLP 1, CNN 0" in texts(at)
    at.selectbox(key="lab-flip-model").set_value("CNN").run()  # any later rerun keeps the results shown
    assert "What happened" in [header.value for header in at.subheader]
    next(b for b in at.button if b.key == "lab-clear-guesses").click()
    at.run()
    assert "answered" not in texts(at)


def test_with_a_second_seed_every_cell_shows_its_range_and_the_sentences_say_so(
    teacher, measured_grid, measured_runs, runs_dir
):
    copy_runs(measured_runs[1], runs_dir)
    at = unlock(open_page("pages/lab.py"), PASSCODE)
    next(b for b in at.button if b.key == "lab-reveal").click()
    at.run()
    assert not at.exception, at.exception
    assert "Seeds: 0, 1." in texts(at)
    table = next(frame for frame in at.dataframe if "sees" in frame.value)
    assert all(" (" in value and "-" in value for value in table.value["corner kept"])  # mean (lowest-highest)
    assert "(2 seeds, their mean)" in texts(at)
    (train,) = [b.label for b in at.button if b.key == "lab-train"]
    assert train.startswith("Train the 8 missing grid runs")  # the ±2 px runs of both seeds


def test_the_teacher_adds_a_seed_once_the_grid_is_complete(teacher, runs_dir, monkeypatch):
    store = RunStore(runs_dir)
    blur = {"class_name": "BlurPool2D", "config": {"edges": "reflect"}}  # the lab's blur, for the blur runs
    for cell in lab.grid():
        with zipfile.ZipFile(store.root / save_fake_run(store, cell.spec, 0.9, 0.9) / "model.keras", "w") as model:
            model.writestr("config.json", json.dumps({"config": {"layers": [blur]}}))
    submitted = []
    monkeypatch.setattr("mnistviz.ui.submit", lambda specs: submitted.append(specs) or [])
    at = unlock(open_page("pages/lab.py"), PASSCODE)
    (add,) = [b for b in at.button if b.key == "lab-add-seed"]
    assert add.label.startswith("Add seed 1: the grid again")
    add.click()
    at.run()
    assert [spec.seed for spec in submitted[0]] == [1] * len(lab.grid())


def test_the_border_effect_is_drawn_for_both_paddings(runs_dir):
    at = open_page("pages/lab.py")
    assert "The border effect, seen." in texts(at)
    assert "cut off the field's last rows" not in texts(at)


def test_the_words_of_the_lab_are_explained_on_its_page(runs_dir):
    """A 15-year-old meets "valid convolutions", "gmp", "blur pooling" and "consistency" here first."""
    at = open_page("pages/lab.py")
    (words,) = [expander for expander in at.expander if expander.label == "Words on this page"]
    said = " ".join(markdown.value for markdown in words.markdown)
    for word in ("valid convolutions", "gmp (global max pooling)", "blur pooling", "consistency", *lab.MODELS):
        assert f"**{word}**: " in said, word
    assert set(lab.NAMES) == set(lab.MODELS)  # every model of the grid has its name in words
