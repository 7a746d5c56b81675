"""Shift Lab: why a model survives a move, taken apart with the experiments from the research."""

import streamlit as st

from mnistviz import display, drawing, estimates, lab, measures, plots, shift_results, story, text, ui
from mnistviz.errors import MnistvizError
from mnistviz.field import DIGIT, FIELD

rights = ui.page_setup("Shift Lab")
manager = ui.manager()
store = manager.store

VARIABLES = (
    (
        "CNN head: flatten, gmp or gap",
        "The notebook's CNN flattens its last feature maps into one long vector, so its dense layer reads each "
        "feature at a fixed place. A global max (gmp) or average (gap) pooling head keeps only how strongly each "
        "feature appears, anywhere: such a CNN takes the whole 56x56 field.",
        "Lin, Chen & Yan, Network in Network, ICLR 2014",
    ),
    (
        "Padding: notebook or same",
        "With the notebook's `valid` convolutions and pooling, the field's last rows and columns never reach the "
        "head. `same` padding keeps every pixel, so a digit in the corner is seen whole.",
        "Kayhan & van Gemert, On Translation Invariance in CNNs, CVPR 2020",
    ),
    (
        "Pooling: max or blur",
        "Max pooling with stride 2 reads other pixels when the input moves by one, so a one-pixel move can change "
        "the answer. Blur pooling takes the max at every pixel, blurs, and only then keeps every second pixel.",
        "Zhang, Making Convolutional Networks Shift-Invariant Again, ICML 2019",
    ),
    (
        "Shift augmentation",
        "Moving the training digits by a few pixels teaches a model those moves. It learns invariance only as far "
        "as the training shifts reach: a little further, and it fails again.",
        "Azulay & Weiss, JMLR 2019; Kauderer-Abrams 2017",
    ),
)


st.title("Shift Lab")
st.caption(
    "What lets a network read a digit it has only seen in the middle once it moves? Four things change it; "
    "the grid below trains a model with each, on the same digits, so the class can see which matters."
)
with st.expander("The four variables, and where they come from", icon=":material/science:"):
    with st.container(key="grid-variables"):
        for title, explanation, reference in VARIABLES:
            with st.container(border=True):
                st.markdown(f"**{title}**")
                st.write(explanation)
                st.caption(reference)

cells = lab.grid()
records = store.list()
runs = lab.grid_runs(records)
missing = [cell.spec for cell in cells if cell not in runs]

st.subheader("The grid")
settings = lab.SETTINGS
st.write(
    f"{len(cells)} runs, each {settings['epochs']} epochs on {settings['train_size']:,} centered training digits "
    f"(batch {settings['batch_size']}): every model below trained on centered digits, and four of them again with "
    f"the digits moved up to ±{lab.AUGMENT} px in training. Smaller than the notebook's runs, so the grid trains "
    "during a lesson."
)
untrained = lab.untrained(records)  # neither finished nor in the queue
if missing:
    queued = len(missing) - len(untrained)
    if rights.in_charge:
        minutes = estimates.minutes_text(estimates.seconds_for(untrained, records))
        if untrained and st.button(
            f"Train the {len(untrained)} missing grid runs" + (f" ({minutes} on this server)" if minutes else ""),
            icon=":material/science:",
            type="primary",
            key="lab-train",
        ):
            try:
                jobs = ui.submit(untrained)
                st.toast(ui.queued_message(jobs) + " Watch them on Train.")
                st.rerun()
            except MnistvizError as error:
                ui.show_error(error)
    else:
        st.info("The teacher trains the grid; its results appear here when it is done.", icon=":material/info:")
    if queued:
        st.caption(f"{queued} grid run{' is' if queued == 1 else 's are'} training or waiting in the queue.")
        st.page_link("pages/train.py", label="Watch them on Train", icon=":material/monitoring:")

trained = list(runs.values())
measured = measures.run_measures(manager.tasks, store, trained)
maps = shift_results.shift_maps(manager.tasks, store, trained, 2, 300)
measured.compute_missing(manager.tasks)
maps.compute_missing(manager.tasks)

st.subheader("First, predict")
plain_models = list(lab.MODELS)
guesses = lab.CLASS_GUESSES
mine = guesses.of(ui.session_owner())
if mine is None:
    st.write(
        "Each model is trained on **centered digits only**. Which ones will still read a digit moved "
        f"{lab.CORNER[0]} px right and {lab.CORNER[1]} px down, near the corner of the field? (Still reads: keeps "
        f"{lab.KEEPS:.0%} of its accuracy in the middle.)"
    )
    with st.form("lab-guess", border=False):
        chosen = st.pills("Still reads the corner", plain_models, selection_mode="multi", key="lab-guess-models")
        if st.form_submit_button("Lock in my guess", icon=":material/lock:"):
            guesses.record(ui.session_owner(), chosen or [])
            st.rerun()
    if rights.in_charge and not st.session_state.get("lab-revealed"):
        st.caption("Students see the results once they have guessed; the teacher may show them without a guess.")
        st.button(
            "Show the results without guessing",
            key="lab-reveal",
            icon=":material/visibility:",
            on_click=lambda: st.session_state.update({"lab-revealed": True}),  # kept for every later rerun
        )
    if not (rights.in_charge and st.session_state.get("lab-revealed")):
        st.stop()
else:
    st.markdown(lab.guess_sentence(mine))


@ui.refresh_while(lambda: bool(measured.computing or maps.computing))
def results() -> None:
    computing = [*measured.computing, *maps.computing]
    if computing:
        done = sum(task.progress for task in computing) / len(computing)
        st.progress(done, text=f"Measuring {len(computing)} result(s) of the grid's runs: {done:.0%}")
    for task in [*measured.tasks.values(), *maps.tasks.values()]:
        if task.done.is_set() and task.error:
            st.error(text.markdown(task.error), icon=":material/error:")
    rows = lab.table_rows(runs, measured.ready, maps.ready)
    if not rows:
        st.info("No grid run is trained and measured yet.", icon=":material/info:")
        return
    colors = display.run_colors(records)
    by_model = {
        row["model"]: maps.ready[row["run_id"]] for row in rows if not row["augment"] and row["run_id"] in maps.ready
    }
    outcomes = lab.outcome(by_model)

    st.subheader("What happened")
    if mine is not None and outcomes:
        right = lab.score(mine, outcomes)
        st.success(f"Your guess was right about {right} of {len(outcomes)} models.", icon=":material/target:")
    with st.container(key="grid-outcomes"):
        for model, reads in outcomes.items():
            with st.container(border=True, key=f"lab-outcome-{model}"):
                guessed = "" if mine is None else (" · you said yes" if model in mine else " · you said no")
                verdict = ":green-badge[still reads it]" if reads else ":red-badge[fails]"
                share = next(row["corner"] for row in rows if row["model"] == model and not row["augment"])
                st.markdown(f"**{model}** {verdict}")
                st.caption(f"keeps {share:.0%} of its accuracy in the corner{guessed}")
    if rights.in_charge:
        answered, tally = guesses.tally()
        if answered:
            st.caption(
                f"The class's guesses ({answered} answered): "
                + ", ".join(f"{model} {count}" for model, count in tally.items())
                + " said it still reads the corner."
            )
            if st.button("Clear the class's guesses", key="lab-clear-guesses", icon=":material/restart_alt:"):
                guesses.clear()
                st.rerun()

    for sentence in story.lab_sentences(rows):
        st.markdown(sentence)

    percent = 100  # the table shows percentages with one decimal: consistencies differ in the first one
    st.dataframe(
        [
            {
                "model": row["title"],
                "centered": percent * row["centered"],
                "anywhere": percent * row["anywhere"],
                "corner kept": percent * row["corner"],
                "consistency": percent * row["consistency"],
                "parameters": row["params"],
                "training": display.format_seconds(row["seconds"]),
            }
            for row in rows
        ],
        hide_index=True,
        column_config={
            "model": st.column_config.TextColumn(pinned=True),
            "centered": st.column_config.NumberColumn(format="%.1f%%", help="Accuracy on centered test digits"),
            "anywhere": st.column_config.NumberColumn(
                format="%.1f%%", help="Accuracy on the offset test set: digits anywhere in the field"
            ),
            "corner kept": st.column_config.NumberColumn(
                format="%.0f%%",
                help=f"Accuracy with the digits moved {lab.CORNER}, as a share of the accuracy in the middle",
            ),
            "consistency": st.column_config.NumberColumn(
                format="%.1f%%", help="Test digits whose answer stays the same when moved one pixel"
            ),
            "parameters": st.column_config.NumberColumn(format="localized"),
        },
    )
    st.caption(
        "Centered and anywhere: accuracy on centered test digits and on the offset test set (digits anywhere in "
        "the field), each model with its own view: the notebook's CNN and MLP see the middle 28x28 only. Corner "
        f"kept: accuracy with the digits moved {lab.CORNER[0]} px right and {lab.CORNER[1]} down, as a share of the "
        "accuracy in the middle. Consistency: the share of test digits whose answer does not change when moved one "
        "pixel in a random direction (Zhang 2019)."
    )
    shown = [row for row in rows if row["run_id"] in maps.ready]
    if shown:
        ui.chart(
            plots.shift_curves(
                [(row["title"], maps.ready[row["run_id"]]) for row in shown], [colors[row["run_id"]] for row in shown]
            ),
            key="lab-shift-curves",
        )
    ui.chart(
        plots.consistency_curves(
            [(row["title"], measured.ready[row["run_id"]].consistency) for row in rows],
            [colors[row["run_id"]] for row in rows],
        ),
        key="lab-consistency",
    )

    st.subheader("Digits a one-pixel move changed")
    titles = {row["title"]: row for row in rows}
    picked = st.selectbox("Model", list(titles), key="lab-flip-model")
    row = titles[picked]
    flips = measured.ready[row["run_id"]].consistency.flips[:12]
    if not flips:
        st.success("No test digit of the sample changed its answer when moved by one pixel.", icon=":material/check:")
        return
    view = next(cell.spec.view for cell in runs if cell.title == picked)
    size = DIGIT if view == "window" else FIELD
    with st.container(key="grid-flips"):
        for flip in flips:
            before, after = measures.flip_views(flip, view)
            with st.container(border=True, gap="small"):
                with st.container(horizontal=True, gap="small"):
                    st.image(drawing.enlarge(before, 112 // size + 1), width=96, clamp=True)
                    st.image(drawing.enlarge(after, 112 // size + 1), width=96, clamp=True)
                st.caption(
                    f"{flip.before} ({flip.before_probability:.0%}) → moved ({flip.move[0]:+d}, {flip.move[1]:+d}) → "
                    f"{flip.after} ({flip.after_probability:.0%})"
                )


results()
