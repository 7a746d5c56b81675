"""The teacher's part of every page's sidebar: unlocking with the teacher link or the passcode, clearing the queue."""

import threading

import streamlit as st

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.runs import access, teacher_link
from mnistviz.training import estimates
from mnistviz.training import jobs as queueing
from mnistviz.ui.session import BY_LINK, UNLOCKED, client_id, manager, session_access, show_error, teacher_setting

HOW_TO_LINK = "the teacher link the server printed in its terminal (`mnistviz teacher-link` prints it again)"
LINK_LIFTS = "the teacher link (`mnistviz teacher-link`) lifts that"


def _check_passcode() -> None:
    entered = st.session_state.pop("teacher_passcode_entry", "")
    if not entered:
        return
    attempt = access.GUARD.attempt(client_id(), entered, teacher_setting().passcode)
    st.session_state[UNLOCKED] = attempt.unlocked
    st.session_state["teacher_refused"] = attempt.message


def _lock() -> None:
    st.session_state[UNLOCKED] = st.session_state[BY_LINK] = False
    try:
        teacher_link.retire_cookies(config.runs_dir())  # every teacher browser, not only this one, needs the link again
    except MnistvizError:
        pass  # the runs folder is read-only: this browser's cookie is taken back below all the same
    st.session_state.pop(_COOKIE_GIVEN, None)
    st.session_state[_COOKIE_FORGET] = True  # the browser forgets it: a reload asks for the link again


_COOKIE_GIVEN = "teacher_cookie_given"  # the cookie this session gives its browser: written on every run, as a
# run's elements can be replaced by the next before the page ran their script
_COOKIE_READ = "teacher_cookie_read"  # this session looked at the cookie its browser sent (once: Lock holds)
_COOKIE_FORGET = "teacher_cookie_forget"  # Lock was pressed: take the cookie back (on every run, likewise)


def _write_cookie(value: str, seconds: int) -> None:
    st.html(
        f"<script>document.cookie = '{teacher_link.COOKIE}={value}; path=/; max-age={seconds}; SameSite=Strict';"
        "</script>",
        unsafe_allow_javascript=True,
    )


def _teacher_cookie() -> None:
    """A browser that opened the teacher link stays the teacher's after a reload, for a school day or until Lock.

    Its cookie was sent when this session began; it is read once, so that Lock holds for the rest of it.
    """
    if st.session_state.get(_COOKIE_READ):
        return
    st.session_state[_COOKIE_READ] = True
    try:
        sent = st.context.cookies.get(teacher_link.COOKIE)
    except Exception:  # no browser behind this session (a test, a script)
        return
    if teacher_link.cookie_matches(sent, config.runs_dir()):
        st.session_state[BY_LINK] = True  # the browser has its cookie: nothing to give


def _open_teacher_link() -> None:
    """Unlock this session if the address holds the teacher link's token; take the token off the address either
    way (never on the projector, never in a bookmark). Compared, never counted: no guessing delays it."""
    entered = st.query_params.get(teacher_link.QUERY)
    if entered is None:
        return
    del st.query_params[teacher_link.QUERY]
    if teacher_link.matches(entered, config.runs_dir()):
        st.session_state[BY_LINK] = True
        st.session_state.pop("teacher_refused", None)
        st.session_state.pop(_COOKIE_FORGET, None)
        try:
            st.session_state[_COOKIE_GIVEN] = teacher_link.cookie_value(config.runs_dir())
        except MnistvizError:
            pass  # the runs folder cannot keep a cookie key: the link still works for this session
    else:
        st.session_state["teacher_refused"] = "That teacher link is not this server's: open " + HOW_TO_LINK + "."


_announced = threading.Lock()  # taken by the first page of the process, never given back


def announce_teacher_link() -> None:
    """Print the teacher link to the server's terminal, once per server process (at its first page)."""
    if not _announced.acquire(blocking=False):
        return
    try:
        base = teacher_link.server_url(st.get_option("server.address"), st.get_option("server.port"))
        print(f"Teacher link: {teacher_link.link(base, config.runs_dir())}", flush=True)
    except MnistvizError as error:
        print(f"Teacher link: none ({error})", flush=True)


def teacher_panel() -> access.Access:
    """The teacher's unlock (when a passcode is set) and the teacher's actions; what this session may do."""
    setting = teacher_setting()
    _teacher_cookie()
    _open_teacher_link()
    if st.session_state.get(_COOKIE_GIVEN):
        _write_cookie(st.session_state[_COOKIE_GIVEN], teacher_link.COOKIE_SECONDS)
    elif st.session_state.get(_COOKIE_FORGET):
        _write_cookie("", 0)
    if session_access().teacher:
        st.success("Teacher mode", icon=":material/lock_open:")
        st.button("Lock", icon=":material/lock:", on_click=_lock, key="teacher_lock")
    elif setting.single_user:
        st.info(
            "Single-user mode: anyone here may stop and delete runs. Runs last at most "
            f"{estimates.duration_text(config.student_minutes() * 60)}, {queueing.QUEUE_LIMIT} waiting: "
            f"{LINK_LIFTS}. For a class, set a teacher passcode (see the README).",
            icon=":material/person:",
        )
    elif setting.problem:
        st.error(
            f"The teacher passcode is locked for everyone: {setting.problem}. Fix the setting and restart the "
            f"server, or open {HOW_TO_LINK}.",
            icon=":material/lock:",
        )
    else:
        st.text_input(
            "Teacher passcode",
            type="password",
            key="teacher_passcode_entry",
            on_change=_check_passcode,
            help=f"The teacher can stop anyone's run, clear the queue and delete runs. Or open {HOW_TO_LINK}.",
        )
    if st.session_state.get("teacher_refused") and not session_access().teacher:
        st.error(st.session_state["teacher_refused"], icon=":material/lock:")
    rights = session_access()
    jobs = manager()
    waiting = [job for job in jobs.active() if jobs.queue_position(job.run_id)]
    if waiting and rights.may_clear_queue():
        if st.button(f"Clear the queue ({len(waiting)} waiting)", icon=":material/clear_all:", key="clear_queue"):
            try:
                dropped = access.clear_queue(jobs, rights)
                st.toast(f"Took {len(dropped)} waiting run(s) out of the queue.")
            except MnistvizError as error:
                show_error(error)
    return rights
