"""Compare: overlaid curves, a table of saved runs, CSV download, and deleting runs."""

import streamlit as st

from mnistviz import access, analysis, plots, results, ui
from mnistviz.errors import MnistvizError

manager = ui.manager()
store = manager.store

st.title("Compare runs")
records = [record for record in store.list() if record.spec is not None]
if not records:
    st.info("No saved runs yet: train some first.", icon=":material/info:")
    st.page_link("views/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

by_label = {results.run_label(record): record for record in records}
default = [label for label, record in by_label.items() if record.status == "finished"][:6]
chosen_labels = st.multiselect("Runs", list(by_label), default=default, placeholder="Choose runs to compare")
chosen = [by_label[label] for label in chosen_labels]
if not chosen:
    st.info("Choose one or more runs above.", icon=":material/info:")
    st.stop()

smoothing = st.slider("Smoothing", 0.0, 0.95, 0.0, 0.05, help="Exponential moving average over epochs.")
curves = [{"label": results.run_label(record), "epochs": record.history.get("epochs", [])} for record in chosen]
st.plotly_chart(plots.compare_curves(curves, smoothing), width="stretch", key="compare-curves")

st.subheader("Table")
table = results.compare_table(chosen)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_order=[  # the accuracies first: at 1280 px the last columns need a sideways scroll
        "run",
        "test accuracy",
        "best val accuracy",
        "architecture",
        "data",
        "parameters",
        "seconds per epoch",
        "epochs",
        "augment shift",
        "status",
        "run id",
    ],
    column_config={
        "best val accuracy": st.column_config.NumberColumn(format="percent"),
        "test accuracy": st.column_config.NumberColumn(format="percent"),
        "seconds per epoch": st.column_config.NumberColumn(format="%.1f"),
        "parameters": st.column_config.NumberColumn(format="localized"),
    },
)
st.download_button(
    "Download the table as CSV",
    table.to_csv(index=False).encode(),
    file_name="mnistviz-runs.csv",
    mime="text/csv",
    icon=":material/download:",
)

with st.expander("Delete runs", icon=":material/delete:"):
    rights = ui.session_access()
    if not rights.may_delete():
        st.info("Only the teacher can delete runs: they are everyone's.", icon=":material/lock:")
    else:
        finished = {label: record for label, record in by_label.items() if record.status not in ("queued", "running")}
        doomed = st.multiselect("Runs to delete", list(finished), key="doomed")
        confirmed = st.checkbox("Yes, delete them for good", key="confirm-delete")
        if st.button("Delete", type="primary", disabled=not (doomed and confirmed)):
            try:
                access.delete_runs(store, [finished[label].run_id for label in doomed], rights)
                st.session_state.pop("doomed", None)
                st.toast(f"Deleted {len(doomed)} run(s).")
                st.rerun()
            except MnistvizError as error:
                ui.show_error(error)

st.subheader("The 2x2 matrix: trained on x tested on")
st.caption(
    "Each notebook model's best run, tested on centered digits and on the offset test set; "
    "a centered model sees the offset digits through its 28x28 window."
)
ui.cross_matrix_section(manager, records)

st.subheader("Accuracy when the test digits move")
st.caption(
    "Test digits moved by (dx, dy) from the centered position; every model sees the field through its own window."
)
step_column, samples_column = st.columns(2)
step = step_column.number_input("Grid step (pixels)", 1, 7, analysis.DEFAULT_STEP)
samples = samples_column.number_input("Test digits per shift", 100, 5000, analysis.DEFAULT_SAMPLES, step=100)
with_model = [record for record in chosen if record.has_model]
maps = {record.run_id: analysis.cached_shift_map(record, int(step), int(samples)) for record in with_model}
missing_maps = [record for record in with_model if maps[record.run_id] is None]
tasks = {
    record.run_id: manager.tasks.get(("shift-map", record.run_id, int(step), int(samples))) for record in missing_maps
}
if missing_maps and st.button(f"Compute the shift maps of {len(missing_maps)} run(s)", icon=":material/calculate:"):
    for record in missing_maps:
        run_id = record.run_id
        tasks[run_id] = manager.tasks.submit(
            ("shift-map", run_id, int(step), int(samples)),
            lambda report, run_id=run_id: analysis.compute_shift_map(store, run_id, int(step), int(samples), report),
        )
running = [task for task in tasks.values() if task is not None and not task.done.is_set()]


@st.fragment(run_every=1.0 if running else None)
def shift_view() -> None:
    if running and all(task.done.is_set() for task in running):
        st.rerun()
    for run_id, task in tasks.items():
        if task is not None and not task.done.is_set():
            st.progress(task.progress, text=f"Shift map of {run_id}: {task.progress:.0%}")
        elif task is not None and task.error:
            st.error(task.error, icon=":material/error:")
    ready = [(results.run_label(r), maps[r.run_id]) for r in with_model if maps[r.run_id] is not None]
    if ready:
        st.plotly_chart(plots.shift_heatmaps(ready), width="stretch", key="shift-heatmaps")
        st.plotly_chart(plots.shift_curves(ready), width="stretch", key="shift-curves")
    elif not running:
        st.info("No shift map yet for the chosen runs: compute them with the button above.", icon=":material/info:")


shift_view()
