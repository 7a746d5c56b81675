"""mnistviz: the dashboard (`streamlit run app.py`). Home: the lesson and the state of the notebook's four models."""

import streamlit as st

from mnistviz import ui
from mnistviz.analysis import shift_maps
from mnistviz.errors import MnistvizError
from mnistviz.learning import notebook, presets
from mnistviz.show import display, lesson, story, text
from mnistviz.training import estimates

ui.page_setup("Home")

ARCH_TITLES = {"mlp": "MLP", "cnn": "CNN"}
DATA_TITLES = {"centered": "centered 28x28", "offset": "offset in 56x56"}

manager = ui.manager()

st.title("When does a network still recognise a moved digit?")
best = notebook.best_runs(manager.store.list())
matrix = shift_maps.cached_cross_matrix(manager.store)
for sentence in story.home_sentences(matrix, {key: record.evaluation.get("params") for key, record in best.items()}):
    st.markdown(sentence)
budget = story.matrix_budget({key: best[key] for key in matrix if key in best})
if budget:
    st.caption(budget)
st.page_link("pages/lab.py", label="Open the Shift Lab", icon=":material/science:")

if ui.session_access().teacher:  # the teacher's guide to a class with these pages; students never see it
    with st.expander(lesson.TITLE, icon=":material/menu_book:"):
        plan = lesson.lesson_text(__file__)  # docs/lesson.md beside app.py
        if plan is None:
            st.caption(lesson.MISSING)
        else:
            st.markdown(plan)


def class_preset() -> None:
    """The one button a teacher needs first: the four models in lesson time, never queued twice."""
    records = manager.store.list()
    specs = presets.preset_specs("class")
    missing = presets.not_yet_trained(specs, records)
    minutes = estimates.minutes_text(estimates.seconds_for(missing, records))
    st.subheader("Train all four for a lesson")
    st.write(
        "The **class** preset trains the four models one after the other with settings tuned for time: each "
        "gets within a point of the notebook's validation accuracy (the offset MLP within two) in about a "
        "quarter of the notebook's time. Watch them on Train while you talk."
    )
    if not missing:
        st.success("All four class runs are trained or in the queue.", icon=":material/check_circle:")
        return
    what = "Train all four for a lesson" if len(missing) == len(specs) else f"Train the {len(missing)} missing"
    if st.button(
        f"{what} ({minutes} on this server)" if minutes else what,
        icon=":material/school:",
        type="primary",
        key="class-preset",
        help=None if minutes else "The time shows once this server has trained a model of each kind.",
    ):
        try:
            jobs = ui.submit(missing)
            st.session_state["train_run_id"] = jobs[0].run_id
            st.session_state["follow-queue"] = True  # Train on the projector shows each of the four as it trains
            st.toast(ui.queued_message(jobs))
            st.rerun()
        except MnistvizError as error:
            ui.show_error(error)


class_preset()


@ui.refresh_while(lambda: bool(manager.active()), every=2.0)
def four_models() -> None:
    """The four cards and the queue; refreshes itself while anything trains."""
    records = manager.store.list()
    best = notebook.best_runs(records)
    busy = notebook.cells_in_training(manager.active())
    failed = notebook.last_failures(records)

    st.subheader("The notebook's four models")
    cards = st.container(key="grid-cells")
    for arch, data_name in notebook.cells():
        key = (arch, data_name)
        with cards.container(border=True):
            st.markdown(f"**{ARCH_TITLES[arch]}**, trained on **{DATA_TITLES[data_name]}** digits")
            record = best.get(key)
            reference = notebook.VAL_ACCURACY[key]
            if record is not None:
                numbers = st.container(horizontal=True, wrap=True, gap="medium")
                numbers.metric("Test accuracy", f"{record.test_accuracy:.2%}", width="content")
                best_val = record.model_val_accuracy  # the weights it tested, on which the cell chose it
                numbers.metric(
                    "Validation",
                    f"{best_val:.2%}" if best_val is not None else "-",
                    delta=f"{(best_val - reference) * 100:+.2f} points vs notebook" if best_val is not None else None,
                    delta_color="off",
                    delta_arrow="off",  # the sign says it: an arrow beside "-0.54" said it twice
                    width="content",
                )
                st.caption(
                    f"{record.epochs_done} epoch{'' if record.epochs_done == 1 else 's'} · run {record.run_id}"
                    + (" · imported" if record.imported else "")
                )
            elif key in busy:
                job = busy[key]
                snapshot = job.snapshot()
                st.info(display.training_state(snapshot), icon=":material/hourglass_top:")
                st.page_link("pages/train.py", label="Watch it on Train", icon=":material/monitoring:")
            else:
                if key in failed:
                    st.error(f"Its last run failed: {text.markdown(failed[key].error)}", icon=":material/error:")
                st.write(f"Not trained yet. The notebook reached {reference:.2%} validation accuracy after 20 epochs.")
                spec = notebook.cell_spec(arch, data_name)
                minutes = estimates.minutes_text(estimates.seconds_for([spec], records))
                if st.button(
                    f"Train with the notebook's settings ({minutes})"
                    if minutes
                    else "Train with the notebook's settings",
                    key=f"train-{arch}-{data_name}",
                    icon=":material/play_arrow:",
                ):
                    try:
                        (job,) = ui.submit([spec])
                        st.session_state["train_run_id"] = job.run_id
                        st.rerun()
                    except MnistvizError as error:
                        ui.show_error(error)

    active = manager.active()
    if active:
        st.subheader("Training queue")
        for job in active:
            snapshot = job.snapshot()
            position = manager.queue_position(job.run_id)
            state = f"waiting (place {position} in the queue)" if position else "training"
            st.write(f"- **{text.markdown(job.spec.label)}**: {state}, {snapshot.fraction:.0%} done")


four_models()

st.subheader("The 2x2 matrix: trained on x tested on")
st.caption(
    "Each model's best run, tested on centered digits and on the offset test set; a centered model sees "
    "the offset digits through its 28x28 window."
)
ui.cross_matrix_section(manager)
