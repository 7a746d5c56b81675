"""This browser session: its id, what it may do, the process-wide job queue it talks to, its error messages."""

import streamlit as st

from mnistviz import access, config
from mnistviz.errors import MnistvizError
from mnistviz.jobs import JobManager, get_manager


def manager() -> JobManager:
    """The process-wide job manager (shared by every browser session) for the runs directory."""
    return get_manager(config.runs_dir())


def show_error(error: MnistvizError) -> None:
    st.error(str(error), icon=":material/error:")


def session_id() -> str | None:
    """This browser session's id: the owner recorded on the runs it starts."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else None


def teacher_passcode() -> str | None:
    """MNISTVIZ_TEACHER_PASSCODE, else `teacher_passcode` in .streamlit/secrets.toml; None: a single-user server."""
    passcode = config.teacher_passcode()
    if passcode:
        return passcode
    try:
        value = st.secrets.get("teacher_passcode")
    except FileNotFoundError:  # no secrets.toml (or an unreadable one): no passcode from there
        return None
    if value is None:
        return None
    return str(value).strip() or None


def session_access() -> access.Access:
    """What this browser session may do to everyone's runs."""
    return access.Access(
        session=session_id(),
        passcode_set=teacher_passcode() is not None,
        teacher=st.session_state.get("teacher_unlocked", False),
    )
