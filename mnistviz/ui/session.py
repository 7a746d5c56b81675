"""This browser session: its id, what it may do, the process-wide job queue it talks to, its error messages."""

import hashlib
import re
import secrets

import streamlit as st

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import access
from mnistviz.show import display, text
from mnistviz.training import jobs as queueing
from mnistviz.training.jobs import Job, JobManager, get_manager


def manager() -> JobManager:
    """The process-wide job manager (shared by every browser session) for the runs directory.

    The first time, the runs a stopped server left waiting are queued again.
    """
    try:
        jobs = get_manager(config.runs_dir())
        jobs.requeue_abandoned()
    except MnistvizError as error:  # the training cluster cannot be reached: say so, lose nothing
        show_error(error)
        st.stop()
    if jobs.problem:
        st.warning(text.markdown(jobs.problem), icon=":material/cloud_off:")
    return jobs


def submit(specs: list[RunSpec]) -> list[Job]:
    """Queue runs for this session, all or none; a student's active runs are limited, the teacher's are not.

    A run that is already queued, training or finished with the very same settings is joined, not trained again.
    """
    access = session_access()
    student = not access.in_charge
    free = access.teacher  # a single-user server keeps its queue cap and time budget: nobody unlocked it
    queue = manager()
    waiting_before = {job.run_id for job in queue.active()}
    asked = queue.submit_all(
        specs,
        owner=session_owner(),
        limit=config.runs_per_student() if student else None,
        reuse=True,
        queue_cap=None if free else queueing.QUEUE_LIMIT,
        address=client_address(),
        address_limit=config.runs_per_address() if student else None,
        budget=None if free else config.student_minutes() * 60,
    )
    new = [job.run_id for job in asked if job.run_id not in waiting_before and not job.done.is_set()]  # not joined
    st.session_state[_QUEUED_NOW] = frozenset(new)
    return asked


_QUEUED_NOW = "submit-queued-now"  # the runs this session's last `submit` newly queued, for its toast


def queued_message(jobs: list[Job]) -> str:
    """The toast after `submit`: how many runs it newly queued, and how many it joined (this session's own
    runs still waiting from an earlier press included: pressing twice queues nothing the second time)."""
    queued_now = st.session_state.get(_QUEUED_NOW, frozenset())
    started = sum(1 for job in jobs if job.run_id in queued_now)
    return display.queued_sentence(started, len(jobs) - started)


def show_error(error: MnistvizError) -> None:
    st.error(text.markdown(str(error)), icon=":material/error:")  # it may quote what a user typed or a file held


OWNER_COOKIE = "mnistviz_owner"  # this browser's owner token: a reload or reconnect keeps Stop on its runs
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def owner_cookie() -> str | None:
    """The owner token this browser sent when its session began, if any (Streamlit reads cookies then)."""
    try:
        value = st.context.cookies.get(OWNER_COOKIE)
    except Exception:  # no browser behind this session (a test, a script)
        return None
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def owner_token() -> str:
    """This browser's secret token: this session's, else the browser's cookie (a reload), else a new one.

    Whoever has it may stop the runs started with it. It lives in a cookie of this site only, never in
    an address a student might share, and only its hash is saved with a run.
    """
    token = st.session_state.get("owner_token") or owner_cookie() or secrets.token_urlsafe(18)
    st.session_state["owner_token"] = token
    return token


def session_owner() -> str:
    """Who started a run, as recorded with it: a hash of the browser's token (the token itself is never saved)."""
    return hashlib.sha256(owner_token().encode()).hexdigest()[:32]


def session_id() -> str | None:
    """This browser session's id: the owner recorded on the runs it starts."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else None


UNLOCKED = "teacher_unlocked"  # this session entered the passcode
BY_LINK = "teacher_by_link"  # this session opened the teacher link: teacher even when the passcode setting is broken


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
        except Exception as error:  # unreadable, not UTF-8, ...: fail closed, never open
            problem = type(error).__name__
    return access.PasscodeSetting.read(environment, secret, problem)


def client_address() -> str:
    """The address this browser connects from; "this computer" for the server's own (Streamlit gives none then).

    Behind a proxy every student has the proxy's address: the README says to run the server directly.
    """
    address = getattr(st.context, "ip_address", None)
    return address if isinstance(address, str) and address else "this computer"


def client_id() -> str:
    """Who is guessing the passcode: the browser's address when Streamlit knows it, else this session."""
    address = getattr(st.context, "ip_address", None)
    return address if isinstance(address, str) and address else f"session {session_id()}"


def session_access() -> access.Access:
    """What this browser session may do to everyone's runs."""
    setting = teacher_setting()
    return access.Access(
        session=session_owner(),
        passcode_set=not setting.single_user,
        teacher=bool(
            st.session_state.get(BY_LINK, False)  # the link works on a single-user server too: it lifts the limits
            or (not setting.single_user and setting.passcode is not None and st.session_state.get(UNLOCKED))
        ),
    )
