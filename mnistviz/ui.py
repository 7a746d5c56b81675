"""The few Streamlit helpers every page shares: process-wide resources and error display."""

import streamlit as st

from mnistviz import config
from mnistviz.errors import MnistvizError
from mnistviz.jobs import JobManager, get_manager


@st.cache_resource
def _manager_for(runs_dir: str) -> JobManager:
    return get_manager(runs_dir)


def manager() -> JobManager:
    """The process-wide job manager (shared by every browser session) for the runs directory."""
    return _manager_for(str(config.runs_dir().expanduser().resolve()))


def show_error(error: MnistvizError) -> None:
    st.error(str(error), icon=":material/error:")


def session_id() -> str | None:
    """This browser session's id: the owner recorded on the runs it starts."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else None
