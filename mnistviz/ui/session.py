"""This browser session: its id, what it may do, the process-wide job queue it talks to, its error messages."""

import streamlit as st

from mnistviz import access, config
from mnistviz.errors import MnistvizError
from mnistviz.jobs import Job, JobManager, get_manager
from mnistviz.spec import RunSpec


def manager() -> JobManager:
    """The process-wide job manager (shared by every browser session) for the runs directory."""
    return get_manager(config.runs_dir())


def submit(specs: list[RunSpec]) -> list[Job]:
    """Queue runs for this session, all or none; a student's active runs are limited, the teacher's are not."""
    limit = None if session_access().in_charge else config.runs_per_student()
    return manager().submit_all(specs, owner=session_id(), limit=limit)


def show_error(error: MnistvizError) -> None:
    st.error(str(error), icon=":material/error:")


def session_id() -> str | None:
    """This browser session's id: the owner recorded on the runs it starts."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else None


def teacher_setting() -> access.PasscodeSetting:
    """MNISTVIZ_TEACHER_PASSCODE, else `teacher_passcode` in .streamlit/secrets.toml, as access reads them."""
    environment = config.teacher_passcode()
    secret, problem = None, ""
    if environment is None:
        try:
            secret = st.secrets.get("teacher_passcode")
        except FileNotFoundError as error:  # Streamlit's "no secrets" and "cannot parse them" alike
            absent = getattr(error, "error_id", None) == "no-secrets-found" or "No secrets found" in str(error)
            problem = "" if absent else type(error).__name__
    return access.PasscodeSetting.read(environment, secret, problem)


def client_id() -> str:
    """Who is guessing the passcode: the browser's address when Streamlit knows it, else this session."""
    address = getattr(st.context, "ip_address", None)
    return address if isinstance(address, str) and address else f"session {session_id()}"


def session_access() -> access.Access:
    """What this browser session may do to everyone's runs."""
    setting = teacher_setting()
    return access.Access(
        session=session_id(),
        passcode_set=not setting.single_user,
        teacher=setting.passcode is not None and st.session_state.get("teacher_unlocked", False),
    )
