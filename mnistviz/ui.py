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


def cross_matrix_section(manager: JobManager, records: list) -> None:
    """The 2x2 matrix of the best notebook runs, computed in the background, with a button for missing cells."""
    from mnistviz import analysis, plots, results

    key = ("cross-matrix", tuple(sorted(r.run_id for r in results.best_runs(records).values())))
    task = manager.tasks.get(key)
    if task is None or (task.done.is_set() and task.error):
        task = manager.tasks.submit(key, lambda report: analysis.cross_matrix(manager.store))
    waiting = not task.done.is_set()

    @st.fragment(run_every=1.0 if waiting else None)
    def matrix_view() -> None:
        if not task.done.is_set():
            st.progress(0.5, text="Testing the saved models on centered and offset digits...")
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
