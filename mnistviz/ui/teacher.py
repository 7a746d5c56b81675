"""The teacher's part of every page's sidebar: unlocking with the passcode, and clearing the queue."""

import streamlit as st

from mnistviz.errors import MnistvizError
from mnistviz.runs import access
from mnistviz.ui.session import client_id, manager, session_access, show_error, teacher_setting


def _check_passcode() -> None:
    entered = st.session_state.pop("teacher_passcode_entry", "")
    if not entered:
        return
    attempt = access.GUARD.attempt(client_id(), entered, teacher_setting().passcode)
    st.session_state["teacher_unlocked"] = attempt.unlocked
    st.session_state["teacher_refused"] = attempt.message


def _lock() -> None:
    st.session_state["teacher_unlocked"] = False


def teacher_panel() -> access.Access:
    """The teacher's unlock (when a passcode is set) and the teacher's actions; what this session may do."""
    setting = teacher_setting()
    passcode_set = setting.passcode is not None
    if setting.single_user:
        st.info(
            "Single-user mode: no teacher passcode is set, so anyone here may stop any run, clear the queue "
            "and delete runs. For a class, set MNISTVIZ_TEACHER_PASSCODE.",
            icon=":material/person:",
        )
    elif setting.problem:
        st.error(
            f"Teacher mode is locked for everyone: {setting.problem}. Fix the setting and restart the server.",
            icon=":material/lock:",
        )
    elif not st.session_state.get("teacher_unlocked"):
        st.text_input(
            "Teacher passcode",
            type="password",
            key="teacher_passcode_entry",
            on_change=_check_passcode,
            help="The teacher can stop anyone's run, clear the queue and delete runs.",
        )
        if st.session_state.get("teacher_refused"):
            st.error(st.session_state["teacher_refused"], icon=":material/lock:")
    elif passcode_set:
        st.success("Teacher mode", icon=":material/lock_open:")
        st.button("Lock", icon=":material/lock:", on_click=_lock, key="teacher_lock")
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
