"""The lesson plan on Home: read from the checkout (`mnistviz.show.lesson`), shown to the teacher only (AppTest)."""

from pathlib import Path

import pytest

from mnistviz.show import lesson
from tests.conftest import open_page
from tests.test_teacher_pages import PASSCODE, unlock

ROOT = Path(__file__).resolve().parent.parent


def write_plan(folder: Path, text: str | bytes) -> Path:
    path = folder / lesson.LESSON
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_plan_is_read_from_the_folder_of_app_py_without_its_title():
    plan = lesson.lesson_text(ROOT / "app.py")
    assert plan is not None
    assert not plan.startswith("# ")  # the expander's label is the title
    assert "## 0-5 min" in plan and plan.endswith("\n")


def test_a_missing_plan_is_none(tmp_path):
    assert lesson.lesson_text(tmp_path / "app.py") is None


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b"\xff\xfe not UTF-8 \xff", b"# plan\n" + b"x" * (lesson.LIMIT + 1)],
    ids=["empty", "blank", "not-utf8", "too-large"],
)
def test_a_plan_that_is_not_readable_text_is_none(tmp_path, content):
    write_plan(tmp_path, content)
    assert lesson.lesson_text(tmp_path / "app.py") is None


def test_a_plan_that_is_a_folder_is_none(tmp_path):
    (tmp_path / lesson.LESSON).mkdir(parents=True)
    assert lesson.lesson_text(tmp_path / "app.py") is None


def test_only_a_first_line_title_is_dropped_and_headings_are_sized_for_the_box(tmp_path):
    write_plan(tmp_path, "\ufeff# A plan\n\nSay hello.\n\n# Not the title\n\n## A part\n\n    # not a heading\n")
    assert lesson.lesson_text(tmp_path / "app.py") == (
        "Say hello.\n\n### Not the title\n\n#### A part\n\n    # not a heading\n"
    )
    write_plan(tmp_path, "No title here.\n")
    assert lesson.lesson_text(tmp_path / "app.py") == "No title here.\n"


@pytest.fixture
def passcode(monkeypatch):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    return PASSCODE


def lesson_expanders(at) -> list:
    return [expander for expander in at.expander if expander.label == lesson.TITLE]


def test_the_teacher_sees_the_lesson_plan_on_home_and_a_student_does_not(passcode, runs_dir):
    student = open_page("app.py")
    assert not lesson_expanders(student)
    assert not any("## 0-5 min" in markdown.value for markdown in student.markdown)

    teacher = unlock(open_page("app.py"))
    (expander,) = lesson_expanders(teacher)
    shown = " ".join(markdown.value for markdown in expander.markdown)
    assert shown.strip() == lesson.lesson_text(ROOT / "app.py").strip()  # the whole plan, as Markdown
    assert "0-5 min · Home" in shown


def test_a_single_user_server_shows_no_lesson_plan(runs_dir, monkeypatch):
    """Nobody unlocked the teacher there (README: single-user mode); the plan is the teacher's."""
    monkeypatch.delenv("MNISTVIZ_TEACHER_PASSCODE", raising=False)
    assert not lesson_expanders(open_page("app.py"))


def test_without_the_plan_the_teacher_is_told_where_it_is_and_home_works(passcode, runs_dir, monkeypatch):
    monkeypatch.setattr(lesson, "lesson_text", lambda beside: None)
    teacher = unlock(open_page("app.py"))
    (expander,) = lesson_expanders(teacher)
    assert [caption.value for caption in expander.caption] == [lesson.MISSING]
    assert any(button.label.startswith("Train all four for a lesson") for button in teacher.button)
