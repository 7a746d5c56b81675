"""The teacher link: unguessable, never locked out by a class guessing passcodes, printed by the server and the CLI."""

import json
import stat
import threading

import pytest

from mnistviz.cli import main
from mnistviz.runs import access, teacher_link
from mnistviz.ui import teacher
from tests.conftest import open_page
from tests.test_teacher_pages import PASSCODE, unlock


def sidebar_texts(at) -> list[str]:
    return [element.value for kind in (at.sidebar.success, at.sidebar.error, at.sidebar.info) for element in kind]


def test_the_token_is_long_random_private_and_kept_across_restarts(tmp_path):
    first = teacher_link.token(tmp_path)
    assert len(first) == 43 and first == teacher_link.token(tmp_path)  # the same server folder, the same link
    assert stat.S_IMODE((tmp_path / teacher_link.TOKEN_FILE).stat().st_mode) == 0o600
    assert teacher_link.token(tmp_path / "another") != first
    (tmp_path / teacher_link.TOKEN_FILE).write_text("short")  # edited by hand: a new token, never a weak one
    assert len(teacher_link.token(tmp_path)) == 43 and teacher_link.token(tmp_path) != "short"


@pytest.mark.parametrize("entered", ["", "x" * 43, None, ["a"], "short", " ", "../../etc/passwd"])
def test_anything_but_the_token_matches_nothing(tmp_path, entered):
    teacher_link.token(tmp_path)
    assert not teacher_link.matches(entered, tmp_path)
    assert teacher_link.matches(teacher_link.token(tmp_path), tmp_path)


def test_the_teacher_cookie_is_not_the_token_and_retires_with_it(tmp_path):
    value = teacher_link.cookie_value(tmp_path)
    assert teacher_link.cookie_matches(value, tmp_path) and teacher_link.token(tmp_path) not in value
    issued, mac = value.split(".")
    for forged in (
        "",
        "0" * 64,
        value.upper(),
        value[:-1],
        None,
        teacher_link.token(tmp_path),
        mac,
        f"9{issued[1:]}.{mac}",
    ):
        assert not teacher_link.cookie_matches(forged, tmp_path)
    (tmp_path / teacher_link.TOKEN_FILE).unlink()  # a new token retires every link and every teacher browser
    teacher_link.token(tmp_path)
    assert not teacher_link.cookie_matches(value, tmp_path)


def test_the_server_checks_the_cookies_age_and_lock_retires_every_one(tmp_path):
    given = teacher_link.cookie_value(tmp_path, now=1_800_000_000)
    assert teacher_link.cookie_matches(given, tmp_path, now=1_800_000_000 + teacher_link.COOKIE_SECONDS - 1)
    assert not teacher_link.cookie_matches(given, tmp_path, now=1_800_000_000 + teacher_link.COOKIE_SECONDS + 1)
    assert not teacher_link.cookie_matches(given, tmp_path, now=1_800_000_000 - 60)  # from the future: forged
    now = teacher_link.cookie_value(tmp_path)
    other_browser = teacher_link.cookie_value(tmp_path)
    teacher_link.retire_cookies(tmp_path)  # Lock
    assert not teacher_link.cookie_matches(now, tmp_path) and not teacher_link.cookie_matches(other_browser, tmp_path)
    assert teacher_link.cookie_matches(teacher_link.cookie_value(tmp_path), tmp_path)  # the link still works after
    assert stat.S_IMODE((tmp_path / teacher_link.COOKIE_KEY_FILE).stat().st_mode) == 0o600


def test_the_cli_prints_the_link_for_the_address_students_reach(runs_dir, capsys):
    assert main(["teacher-link", "--url", "http://192.168.1.20:8501/train"]) == 0
    shown = capsys.readouterr().out.strip()
    assert shown == f"Teacher link: http://192.168.1.20:8501/?teacher={teacher_link.token(runs_dir)}"
    assert main(["teacher-link", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["teacher_link"].startswith("http://localhost:8501/?teacher=")
    assert main(["teacher-link", "--url", "ftp://server"]) == 2
    assert "is not a server's address" in capsys.readouterr().err


def test_after_25_wrong_guesses_the_teacher_link_unlocks_at_once(runs_dir, monkeypatch):
    """The hostile class's attack: 21 sessions guessing wrong made the teacher's right passcode wait 31 s."""
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    for student in range(25):
        access.GUARD.attempt(f"192.168.1.{student + 10}", "wrong-guess", PASSCODE)
    locked_out = unlock(open_page("pages/compare.py"))
    assert any("Too many wrong passcodes" in text for text in sidebar_texts(locked_out))  # the passcode waits
    at = open_page("pages/compare.py", query={"teacher": teacher_link.token(runs_dir)})
    assert "Teacher mode" in sidebar_texts(at)
    assert "teacher" not in at.query_params  # off the address: not on the projector, not in a bookmark
    at.run()
    assert "Teacher mode" in sidebar_texts(at)  # the session stays unlocked
    at.sidebar.button(key="teacher_lock").click()
    at.run()
    assert "Teacher mode" not in sidebar_texts(at)


@pytest.mark.parametrize("passcode", [PASSCODE, "   "])  # set, or broken (blank: the passcode unlocks nobody)
def test_a_wrong_link_unlocks_nothing_and_says_so(runs_dir, monkeypatch, passcode):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", passcode)
    at = open_page("pages/compare.py", query={"teacher": "x" * 43})
    assert "Teacher mode" not in sidebar_texts(at)
    assert any("That teacher link is not this server's" in text for text in sidebar_texts(at))
    right = open_page("pages/compare.py", query={"teacher": teacher_link.token(runs_dir)})
    assert "Teacher mode" in sidebar_texts(right)  # with a broken passcode setting, the link still works


def test_a_single_user_server_says_how_to_get_the_teacher_link(runs_dir):
    at = open_page("pages/compare.py")
    assert any("mnistviz teacher-link" in text for text in sidebar_texts(at) if text.startswith("Single-user mode"))


def test_the_server_prints_the_teacher_link_once_at_its_first_page(runs_dir, monkeypatch, capsys):
    monkeypatch.setattr(teacher, "_announced", threading.Lock())  # a server process that has shown no page yet
    open_page("pages/compare.py")
    open_page("pages/compare.py")
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Teacher link: ")]
    assert printed == [f"Teacher link: http://localhost:8501/?teacher={teacher_link.token(runs_dir)}"]
