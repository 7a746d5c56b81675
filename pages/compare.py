"""Compare: overlaid curves, a table of saved runs, CSV download, bundles of runs, and deleting runs."""

import streamlit as st

from mnistviz import ui
from mnistviz.analysis import measures, shift_maps, shifts
from mnistviz.errors import MnistvizError
from mnistviz.runs import access, bundle
from mnistviz.runs.store import ACTIVE
from mnistviz.show import display, plots, text

rights = ui.page_setup("Compare")
manager = ui.manager()
store = manager.store

st.title("Compare runs")
everything = store.list()
damaged = [record for record in everything if record.status == "damaged"]
if damaged:
    st.warning(
        f"{len(damaged)} run(s) cannot be shown, their files are damaged: "
        + "; ".join(f"{record.run_id} ({text.markdown(record.error)})" for record in damaged)
        + ". The teacher can delete them under **Delete runs**.",
        icon=":material/warning:",
    )


def delete_chosen() -> None:
    """Delete the chosen runs, then empty the box (a callback: the widgets are not drawn yet)."""
    chosen = st.session_state.get("doomed", [])
    try:
        access.delete_runs(store, chosen, rights)
        st.session_state["deleted"] = len(chosen)
        st.session_state["doomed"], st.session_state["confirm-delete"] = [], False
    except MnistvizError as error:
        st.session_state["delete-error"] = error


def delete_runs_section() -> None:
    """The teacher's deleting of runs, damaged ones included: on every state of this page."""
    with st.expander("Delete runs", icon=":material/delete:"):
        if not rights.may_delete():
            st.info("Only the teacher can delete runs: they are everyone's.", icon=":material/lock:")
            return
        if "deleted" in st.session_state:
            st.toast(f"Deleted {st.session_state.pop('deleted')} run(s).")
        if "delete-error" in st.session_state:
            ui.show_error(st.session_state.pop("delete-error"))
        finished = {record.run_id: display.run_label(record) for record in everything if record.status not in ACTIVE}
        st.session_state["doomed"] = [run_id for run_id in st.session_state.get("doomed", []) if run_id in finished]
        doomed = st.multiselect("Runs to delete", list(finished), format_func=finished.get, key="doomed")
        confirmed = st.checkbox("Yes, delete them for good", key="confirm-delete")
        st.button("Delete", type="primary", disabled=not (doomed and confirmed), on_click=delete_chosen)


def bring_runs_section(chosen: list) -> None:
    """The teacher's bundles: the chosen runs to take to another server, and runs trained elsewhere to bring in."""
    just_imported = st.session_state.pop("imported", None)
    if just_imported:
        st.toast(just_imported, icon=":material/check_circle:")
    with st.expander("Bring runs to another server", icon=":material/move_item:", expanded=bool(just_imported)):
        if not rights.in_charge:
            st.info("Only the teacher exports and imports runs.", icon=":material/lock:")
            return
        if just_imported:
            st.success(just_imported, icon=":material/check_circle:")
        ready = [record.run_id for record in chosen if bundle.exportable(record) is None]
        left = len(chosen) - len(ready)
        st.download_button(
            f"Download the {len(ready)} chosen run(s) as a bundle",
            lambda: access.export_bundle(store, ready, rights),
            file_name="mnistviz-runs.zip",
            mime="application/zip",
            icon=":material/download:",
            disabled=not ready,
            on_click="ignore",
        )
        st.caption(
            "Choose runs under **Runs** above. On the other server: `mnistviz import mnistviz-runs.zip`, or upload it "
            "here." + (f" {left} chosen run(s) are not finished or have no model: left out." if left else "")
        )
        upload = st.file_uploader("A bundle of runs (mnistviz export)", type="zip", key="bundle-upload")
        if upload is not None and st.button("Import its runs", icon=":material/upload:", key="import-bundle"):
            try:
                imported = access.import_bundle(store, upload, rights)
            except MnistvizError as error:
                ui.show_error(error)
                return
            st.session_state["imported"] = f"Imported {len(imported)} run(s): they show on every page now."
            st.rerun()


records = [record for record in everything if record.spec is not None and record.status != "damaged"]
if not records:
    st.info("No saved runs yet: train some first.", icon=":material/info:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    bring_runs_section([])
    delete_runs_section()
    st.stop()

by_label = {display.run_label(record): record for record in records}
default = [  # what the 2x2 matrix uses too: a stopped run with epochs is a model
    label for label, record in by_label.items() if record.status in ("finished", "stopped") and record.epochs_done
][:6]
chosen_labels = st.multiselect("Runs", list(by_label), default=default, placeholder="Choose runs to compare")
chosen = [by_label[label] for label in chosen_labels]
styles = display.run_styles(everything)
if not chosen:
    st.info("Choose one or more runs above.", icon=":material/info:")
    bring_runs_section(chosen)
    delete_runs_section()
    st.stop()

smoothing = 0.0
if max(record.epochs_done for record in chosen) >= display.SMOOTHING_FROM_EPOCHS:  # a few points need none
    smoothing = st.slider("Smoothing", 0.0, 0.95, 0.0, 0.05, help="Exponential moving average over epochs.")
curves = [
    {"label": display.run_label(record), "epochs": record.epochs, "style": styles[record.run_id]} for record in chosen
]
ui.chart(plots.compare_curves(curves, smoothing), key="compare-curves")

st.subheader("Table")
measured = measures.run_measures(manager.tasks, store, chosen)
table = display.compare_table(chosen, measured.ready)
measuring = {run_id for run_id, task in measured.tasks.items() if not task.done.is_set()}
st.dataframe(
    display.table_on_screen(table, measuring),
    hide_index=True,
    width="stretch",
    column_order=[  # the accuracies first: at 1280 px the last columns need a sideways scroll
        "run",
        "test accuracy",
        "accuracy centered",
        "accuracy anywhere",
        "consistency",
        "one-pixel stability",
        "best val accuracy",
        "architecture",
        "sees",
        "data",
        "parameters",
        "seconds per epoch",
        "epochs",
        "augment shift",
        "status",
        "run id",
    ],
    column_config={
        "run": st.column_config.TextColumn(pinned=True),
        "accuracy centered": st.column_config.TextColumn(help="On centered test digits"),
        "accuracy anywhere": st.column_config.TextColumn(
            help="On the offset test set: digits anywhere in the field, in the model's own view"
        ),
        "consistency": st.column_config.TextColumn(
            help=f"Zhang 2019: test digits given the same answer at two random shifts of up to "
            f"±{shifts.CONSISTENCY_RANGE} px",
        ),
        "one-pixel stability": st.column_config.TextColumn(
            help="Test digits whose answer does not change when moved one pixel from the centre"
        ),
        "architecture": st.column_config.TextColumn(width="medium"),
        "data": st.column_config.TextColumn(width="medium"),  # auto cut "centered" to "centere" at 1280 px
        "seconds per epoch": st.column_config.NumberColumn(format="%.1f"),
        "parameters": st.column_config.NumberColumn(format="localized"),
    },
)
st.download_button(
    "Download the table as CSV",
    display.csv_export(table),
    file_name="mnistviz-runs.csv",
    mime="text/csv",
    icon=":material/download:",
)
bring_runs_section(chosen)
delete_runs_section()

st.subheader("The 2x2 matrix: trained on x tested on")
st.caption(
    "Each notebook model's best run, tested on centered digits and on the offset test set; "
    "a centered model sees the offset digits through its 28x28 window."
)
ui.cross_matrix_section(manager)

st.subheader("Accuracy when the test digits move")
st.caption(
    "Test digits moved by (dx, dy) from the centered position; every model sees the field through its own window."
)
step_column, samples_column = st.columns(2)
finer = (
    None if rights.in_charge else "The teacher may measure finer: a step of 1 with 5,000 digits is 60 times the work."
)
step = int(
    step_column.number_input(
        "Grid step (pixels)", *shifts.LIMITS["step"], shifts.DEFAULT_STEP, disabled=finer is not None, help=finer
    )
)
samples = int(
    samples_column.number_input(
        "Test digits per shift",
        *shifts.LIMITS["samples"],
        shifts.DEFAULT_SAMPLES,
        step=100,
        disabled=finer is not None,  # a forged value for a disabled widget is dropped by Streamlit itself
        help=finer,
    )
)
maps = shift_maps.shift_maps(manager.tasks, store, chosen, step, samples)
unmeasured = {record.run_id for record in [*maps.missing, *measured.missing]}
if unmeasured and st.button(
    f"Compute the shift maps and consistency of {len(unmeasured)} run(s)", icon=":material/calculate:"
):
    maps.compute_missing(manager.tasks)
    measured.compute_missing(manager.tasks)


@ui.refresh_while(lambda: bool(maps.computing or measured.computing))
def shift_view() -> None:
    named = [("Shift map", *item) for item in maps.tasks.items()]
    named += [("Consistency", *item) for item in measured.tasks.items()]
    for what, run_id, task in named:
        if not task.done.is_set():
            st.progress(task.progress, text=f"{what} of {run_id}: {task.progress:.0%}")
        elif task.error:
            st.error(text.markdown(task.error), icon=":material/error:")
    ready = [(display.run_label(record), maps.ready[record.run_id]) for record in chosen if record.run_id in maps.ready]
    shown = [record.run_id for record in chosen if record.run_id in maps.ready]
    if ready:
        with st.container(key="grid-shift-maps"):
            for run_id, (label, shift_map) in zip(shown, ready, strict=True):
                ui.chart(plots.shift_heatmap(label, shift_map), key=f"shift-map-{run_id}")
        ui.chart(plots.shift_curves(ready, [styles[run_id] for run_id in shown]), key="shift-curves")
    consistent = [record for record in chosen if record.run_id in measured.ready]
    if consistent:
        ui.chart(
            plots.stability_curves(
                [(display.run_label(record), measured.ready[record.run_id].stability) for record in consistent],
                [styles[record.run_id] for record in consistent],
            ),
            key="stability-curves",
        )
    if not ready and not consistent and not (maps.computing or measured.computing):
        st.info("No shift map yet for the chosen runs: compute them with the button above.", icon=":material/info:")


shift_view()
