"""Compare: overlaid curves, a table of saved runs, CSV download, and deleting runs."""

import streamlit as st

from mnistviz import plots, results, ui

manager = ui.manager()
store = manager.store

st.title("Compare runs")
records = [record for record in store.list() if record.spec is not None]
if not records:
    st.info("No saved runs yet: train some first.", icon=":material/info:")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
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
left, right = st.columns(2)
for column, metric in ((left, "val_accuracy"), (right, "val_loss")):
    column.plotly_chart(plots.compare_curves(curves, metric, smoothing), width="stretch", key=f"compare-{metric}")
left, right = st.columns(2)
for column, metric in ((left, "accuracy"), (right, "loss")):
    column.plotly_chart(plots.compare_curves(curves, metric, smoothing), width="stretch", key=f"compare-{metric}")

st.subheader("Table")
table = results.compare_table(chosen)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
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
    finished = {label: record for label, record in by_label.items() if record.status not in ("queued", "running")}
    doomed = st.multiselect("Runs to delete", list(finished), key="doomed")
    confirmed = st.checkbox("Yes, delete them for good", key="confirm-delete")
    if st.button("Delete", type="primary", disabled=not (doomed and confirmed)):
        for label in doomed:
            store.delete(finished[label].run_id)
        st.session_state.pop("doomed", None)
        st.toast(f"Deleted {len(doomed)} run(s).")
        st.rerun()
