"""The few Streamlit helpers every page shares: process-wide resources, error display, the teacher's sidebar."""

import streamlit as st

from mnistviz import access, config
from mnistviz.errors import MnistvizError
from mnistviz.jobs import JobManager, get_manager


@st.cache_resource
def _manager_for(runs_dir: str) -> JobManager:
    return get_manager(runs_dir)


def manager() -> JobManager:
    """The process-wide job manager (shared by every browser session) for the runs directory."""
    return _manager_for(str(config.runs_dir().expanduser().resolve()))


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run, once per process.

    Streamlit does that to reset Keras between reruns. In this server a run trains in a worker thread while
    the pages rerun every second to show its progress, and each clear drops TensorFlow's kernel cache under
    that training and runs a full garbage collection: a watched run trained many times slower than one
    nobody watched. mnistviz keeps no Keras state tied to a rerun, so there is nothing to reset.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _keep_problem_modules


def _keep_problem_modules() -> None:
    """What Streamlit runs after each script run instead of its module cleanup: nothing."""


def show_error(error: MnistvizError) -> None:
    st.error(str(error), icon=":material/error:")


def session_id() -> str | None:
    """This browser session's id: the owner recorded on the runs it starts."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else None


def cross_matrix_section(manager: JobManager, records: list) -> None:
    """The 2x2 matrix of the best notebook runs, computed in the background, with a button for missing cells."""
    from mnistviz import analysis, plots, results

    key = ("cross-matrix", tuple(sorted(r.run_id for r in results.best_runs(records).values())))
    task = manager.tasks.get(key)
    if task is None or (task.done.is_set() and task.error):
        task = manager.tasks.submit(key, lambda report: analysis.cross_matrix(manager.store, report))
    waiting = not task.done.is_set()

    @st.fragment(run_every=1.0 if waiting else None)
    def matrix_view() -> None:
        if not task.done.is_set():
            st.progress(task.progress, text="Testing the saved models on centered and offset digits...")
            return
        if waiting:
            st.rerun()  # computed: one full rerun draws it and stops the timer
        if task.error:
            st.error(task.error, icon=":material/error:")
            return
        cells = task.result
        left, right = st.columns(2)
        for column, arch in ((left, "mlp"), (right, "cnn")):
            column.plotly_chart(plots.cross_matrix_figure(cells, arch), width="stretch", key=f"matrix-{arch}")
        missing = [cell for cell in results.notebook_cells() if cell not in cells]
        if missing:
            st.write("Not trained yet: " + ", ".join(f"{a.upper()} on {d}" for a, d in missing))
            if st.button("Train the missing ones with the notebook's settings", icon=":material/play_arrow:"):
                for arch, data_name in missing:
                    manager.submit(results.notebook_spec(arch, data_name), owner=session_id())
                st.toast(f"Queued {len(missing)} run(s); watch them on Train.")

    matrix_view()


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


def _check_passcode() -> None:
    entered = st.session_state.pop("teacher_passcode_entry", "")
    unlocked = access.passcode_matches(entered, teacher_passcode())
    st.session_state["teacher_unlocked"] = unlocked
    st.session_state["teacher_refused"] = bool(entered) and not unlocked


def _lock() -> None:
    st.session_state["teacher_unlocked"] = False


def teacher_panel() -> access.Access:
    """The sidebar of every page: the teacher's unlock (when a passcode is set) and the teacher's actions."""
    passcode_set = teacher_passcode() is not None
    with st.sidebar:
        if passcode_set and not st.session_state.get("teacher_unlocked"):
            st.text_input(
                "Teacher passcode",
                type="password",
                key="teacher_passcode_entry",
                on_change=_check_passcode,
                help="The teacher can stop anyone's run, clear the queue and delete runs.",
            )
            if st.session_state.get("teacher_refused"):
                st.error("That is not the teacher passcode.", icon=":material/lock:")
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
