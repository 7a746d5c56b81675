"""Shift Lab: why a model survives a move, taken apart with the experiments from the research."""

import streamlit as st

from mnistviz import ui
from mnistviz.analysis import drawing, lab, measures, reach, shift_maps, shifts
from mnistviz.errors import MnistvizError
from mnistviz.learning import models, notebook
from mnistviz.learning.field import DIGIT, FIELD
from mnistviz.show import display, plots, story, text
from mnistviz.training import estimates, tasks

rights = ui.page_setup("Shift Lab")
manager = ui.manager()
store = manager.store

VARIABLES = (
    (
        "Input: the window or the whole field",
        "The notebook's MLP and CNN trained on centered digits see only the middle 28x28 window: of a digit moved "
        "to the corner, most is outside it. The grid's CNN-field is the same flatten CNN given the whole 56x56 "
        "field, with the centered digits in its middle.",
        "The control that makes the head's comparison fair",
    ),
    (
        "CNN head: flatten, gmp or gap",
        "The notebook's CNN flattens its last feature maps into one long vector, so its dense layer reads each "
        "feature at a fixed place. A global max (gmp) or average (gap) pooling head keeps only how strongly each "
        "feature appears, anywhere: such a CNN takes the whole 56x56 field.",
        "Lin, Chen & Yan, Network in Network, ICLR 2014",
    ),
    (
        "Padding: notebook or same",
        "With the notebook's `valid` convolutions a pixel near any edge of the field reaches the head through far "
        "fewer paths than one inside: a border effect on every side, which `same` padding weakens. (Only the "
        "field's last two rows and columns are dropped, and they change no answer.)",
        "Kayhan & van Gemert, On Translation Invariance in CNNs, CVPR 2020",
    ),
    (
        "Pooling: max or blur",
        "Max pooling with stride 2 reads other pixels when the input moves by one, so a one-pixel move can change "
        "the answer. Blur pooling takes the max at every pixel, blurs (padding by reflection), and only then keeps "
        "every second pixel.",
        "Zhang, Making Convolutional Networks Shift-Invariant Again, ICML 2019",
    ),
    (
        "Shift augmentation",
        "Moving the training digits by a few pixels teaches a model those moves. A flatten model learns invariance "
        "only as far as the training shifts reach: a little further, and it fails again.",
        "Azulay & Weiss, JMLR 2019; Kauderer-Abrams 2017",
    ),
)


st.title("Shift Lab")
st.caption(
    "What lets a network read a digit it has only seen in the middle once it moves? The grid below trains "
    "models that differ in one thing at a time, on the same digits, so the class can see which matters."
)
with st.expander("The variables, and where they come from", icon=":material/science:"):
    with st.container(key="grid-variables"):
        for title, explanation, reference in VARIABLES:
            with st.container(border=True):
                st.markdown(f"**{title}**")
                st.write(explanation)
                st.caption(reference)
    st.markdown("**The border effect, seen.** How many paths lead from each pixel of the field to the head:")
    with st.container(key="grid-reach"):  # side by side where there is room, one under the other on a phone
        for padding, title in reach.PADDINGS.items():
            ui.chart(plots.reach_figure({title: reach.paths_to_head(padding)}), key=f"lab-reach-{padding}")
    st.caption(
        "Bright: many paths; dark: few. With `valid` convolutions all four sides are dim alike (the last two rows "
        "and columns, beyond the last pooling window, reach nothing); with `same` padding the border is dimmer "
        "too, but far less. The dashed square is the 28x28 window. The head (Flatten or global pooling) reads "
        "every position of the last feature map, so both heads have this picture."
    )
with st.expander("Words on this page", icon=":material/dictionary:"):
    st.markdown("\n".join(f"- **{name}**: {words}" for name, words in lab.NAMES.items()))
    st.markdown("\n".join(f"- **{word}**: {meaning}" for word, meaning in lab.GLOSSARY.items()))
with st.expander("Where the lab differs from the notebook", icon=":material/difference:"):
    st.markdown(display.deviations_table(notebook.DEVIATIONS))

records = store.list()
seeds = lab.seeds(records)
runs = lab.grid_runs(records)
cells = [cell for seed in seeds for cell in lab.grid(seed)]
missing = [cell.spec for cell in cells if cell not in runs]

st.subheader("The grid")
st.write(
    f"{len(lab.grid())} runs a seed, each {lab.SETTINGS['epochs']} epochs on {lab.SETTINGS['train_size']:,} "
    f"centered training digits (batch {lab.SETTINGS['batch_size']}): every model below trained on centered digits, "
    f"and four of them again with the digits moved up to ±{lab.AUGMENT} px in training. Smaller than the notebook's "
    "runs, so the grid trains during a lesson. Seeds: " + ", ".join(map(str, seeds)) + "."
)
untrained = lab.untrained(records)  # neither finished nor in the queue


def queue(specs) -> None:
    """Queue grid runs for the teacher's button, say so, and show the page again (or why not)."""
    try:
        jobs = ui.submit(specs)
        st.toast(ui.queued_message(jobs) + " Watch them on Train.")
        st.rerun()
    except MnistvizError as error:
        ui.show_error(error)


MAP_STEP, MAP_SAMPLES = 2, 300  # the grid's shift maps: every second pixel, 300 test digits
per_run = measures.measuring_seconds(list(runs.values()), MAP_STEP, MAP_SAMPLES)
if rights.in_charge:
    minutes = estimates.minutes_text(estimates.seconds_for(untrained, records))
    measuring = estimates.minutes_text(per_run * len(untrained)) if per_run and minutes else ""
    if untrained and st.button(
        f"Train the {len(untrained)} missing grid runs"
        + (
            f" ({minutes} on this server" + (f", then {measuring} of measuring)" if measuring else ")")
            if minutes
            else ""
        ),
        icon=":material/science:",
        type="primary",
        key="lab-train",
    ):
        queue(untrained)
    seed = lab.next_seed(records)
    if not missing and seed is not None:
        another = lab.untrained(records, [seed])
        minutes = estimates.minutes_text(estimates.seconds_for(another, records))
        if st.button(
            f"Add seed {seed}: the grid again" + (f" ({minutes})" if minutes else ""),
            icon=":material/add:",
            key="lab-add-seed",
            help="Train every model again from other random weights and digits: the table then shows each "
            "cell's mean and its range over the seeds.",
        ):
            queue(another)
elif missing:
    st.info("The teacher trains the grid; its results appear here when it is done.", icon=":material/info:")
queued = len(missing) - len(untrained)
if queued:
    st.caption(f"{queued} grid run{' is' if queued == 1 else 's are'} training or waiting in the queue.")
    st.page_link("pages/train.py", label="Watch them on Train", icon=":material/monitoring:")

trained = list(runs.values())
measured = measures.run_measures(manager.tasks, store, trained)
maps = shift_maps.shift_maps(manager.tasks, store, trained, MAP_STEP, MAP_SAMPLES)
measured.compute_missing(manager.tasks)
maps.compute_missing(manager.tasks)

st.subheader("First, predict")
plain_models = list(lab.MODELS)
guesses = lab.CLASS_GUESSES
mine = guesses.of(ui.session_owner())


@st.fragment(run_every=3.0)
def class_tally() -> None:
    """The teacher's view of the class's guesses, counted as they come in, before any result is shown."""
    answered, tally = guesses.tally()
    if not answered:
        st.caption("The class's guesses appear here as they come in.")
        return
    st.caption(
        f"The class's guesses ({answered} answered): "
        + ", ".join(f"{model} {count}" for model, count in tally.items())
        + " said it still reads the corner."
    )
    if st.button("Clear the class's guesses", key="lab-clear-guesses", icon=":material/restart_alt:"):
        guesses.clear()
        st.rerun()


if mine is None:
    st.write(
        "Each model is trained on **centered digits only**. Which ones will still read a digit moved "
        f"{lab.CORNER[0]} px right and {lab.CORNER[1]} px down, near the corner of the field? (Still reads: keeps "
        f"{lab.KEEPS:.0%} of its accuracy in the middle.) MLP and CNN see only the middle 28x28 window; the others "
        "see the whole field."
    )
    with st.form("lab-guess", border=False):
        chosen = st.pills("Still reads the corner", plain_models, selection_mode="multi", key="lab-guess-models")
        if st.form_submit_button("Lock in my guess", icon=":material/lock:"):
            guesses.record(ui.session_owner(), chosen or [])
            st.rerun()
    if rights.in_charge:
        class_tally()
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
    if rights.in_charge:
        class_tally()


def with_range(value: float, low: float, high: float, decimals: int, several: bool) -> str:
    """A mean and, over several seeds, its range: '97.1% (96.5-97.8)'."""
    if not several:
        return f"{100 * value:.{decimals}f}%"
    return f"{100 * value:.{decimals}f}% ({100 * low:.{decimals}f}-{100 * high:.{decimals}f})"


@ui.refresh_while(lambda: bool(measured.computing or maps.computing))
def results() -> None:
    computing = [*measured.computing, *maps.computing]
    if computing:
        done = sum(task.progress for task in computing) / len(computing)
        left = tasks.seconds_left([*measured.tasks.values(), *maps.tasks.values()])
        st.progress(
            done,
            text=f"Measuring {len(computing)} result(s) of the grid's runs: {done:.0%}"
            + (f", about {estimates.duration_text(left)} left" if left is not None else ""),
        )
    for task in [*measured.tasks.values(), *maps.tasks.values()]:
        if task.done.is_set() and task.error:
            st.error(text.markdown(task.error), icon=":material/error:")
    measured_rows = lab.table_rows(runs, measured.ready, maps.ready, models.multiply_adds)
    rows = lab.comparable_rows(measured_rows)
    if not rows:
        st.info("No grid run is trained and measured yet.", icon=":material/info:")
        return
    summary = lab.summarize(rows)
    seeds_measured = sorted({row["seed"] for row in rows})
    measured_budget = lab.budget(len(seeds_measured))
    ink_left = measures.ink_left_at(lab.CORNER)
    outcomes = lab.outcome(summary)
    why = lab.seen_or_not(summary, ink_left)

    st.subheader("What happened")
    st.caption(f"Results {measured_budget}.")
    if mine is not None and outcomes:
        right = lab.score(mine, outcomes)
        st.success(f"Your guess was right about {right} of {len(outcomes)} models.", icon=":material/target:")
    with st.container(key="grid-outcomes"):
        for row in summary:
            if row["augment"]:
                continue
            model, reads = row["model"], outcomes[row["model"]]
            with st.container(border=True, key=f"lab-outcome-{model}"):
                guessed = "" if mine is None else (" · you said yes" if model in mine else " · you said no")
                verdict = ":green-badge[still reads it]" if reads else ":red-badge[fails]"
                st.markdown(f"**{model}** {verdict}")
                st.caption(
                    f"sees the {row['view']}; keeps {row['corner']:.0%} of its accuracy in the corner"
                    + (f"; {why[model]}" if model in why else "")
                    + guessed
                )

    for sentence in story.lab_sentences(summary, measured_budget, ink_left, measures.ink_reach_at(lab.CORNER)):
        st.markdown(sentence)

    st.dataframe(
        [
            {
                "model": row["title"],
                "sees": row["view"],
                **{
                    column: with_range(row[name], *row["range"][name], decimals, len(seeds_measured) > 1)
                    for column, name, decimals in (
                        ("centered", "centered", 1),
                        ("anywhere", "anywhere", 1),
                        ("corner kept", "corner", 0),
                        ("consistency", "consistency", 1),
                        ("one-pixel stability", "stability", 1),
                    )
                },
                "parameters": row["params"],
                "multiply-adds": row["multiply_adds"],
            }
            for row in summary
        ],
        hide_index=True,
        column_config={
            "model": st.column_config.TextColumn(pinned=True),
            "sees": st.column_config.TextColumn(help="What the model is given: the 28x28 window, or the whole field"),
            "centered": st.column_config.TextColumn(help="Accuracy on centered test digits"),
            "anywhere": st.column_config.TextColumn(
                help="Accuracy on the offset test set: digits anywhere in the field"
            ),
            "corner kept": st.column_config.TextColumn(
                help=f"Accuracy with the digits moved {lab.CORNER}, as a share of the accuracy in the middle"
            ),
            "consistency": st.column_config.TextColumn(
                help=f"Zhang 2019: two random shifts (up to ±{shifts.CONSISTENCY_RANGE} px) give the same answer"
            ),
            "one-pixel stability": st.column_config.TextColumn(
                help="The answer stays the same when the digit moves one pixel from the centre"
            ),
            "parameters": st.column_config.NumberColumn(format="localized"),
            "multiply-adds": st.column_config.NumberColumn(
                format="localized", help="What one digit costs the model: the same on any server"
            ),
        },
    )
    st.caption(
        f"Results {measured_budget}"
        + (", with the lowest and highest seed in brackets" if len(seeds_measured) > 1 else "")
        + ". Centered and anywhere: accuracy on centered test digits and on the offset test set (digits anywhere "
        "in the field), each model with its own view. Corner kept: accuracy with the digits moved "
        f"{lab.CORNER[0]} px right and {lab.CORNER[1]} down, as a share of the accuracy in the middle. "
        f"**Consistency** (Zhang 2019): the share of test digits given the same answer at two random shifts of up to "
        f"±{shifts.CONSISTENCY_RANGE} px. **One-pixel stability**: the share whose answer survives a one-pixel move "
        "from the centre, where the model was trained. Multiply-adds: per digit, what the model decides (training "
        "time on a shared server is in each run's details on Train)."
    )
    titles = {row["title"]: f"{row['title']} ({row['view']})" for row in summary}
    mean_maps = [
        (titles[row["title"]], lab.mean_map([maps.ready[run_id] for run_id in row["run_ids"]])) for row in summary
    ]
    styles = [plots.run_style(i) for i in range(len(summary))]
    ui.chart(plots.shift_curves(mean_maps, styles), key="lab-shift-curves")
    ui.chart(
        plots.stability_curves(
            [(titles[row["title"]], measured.ready[row["run_ids"][0]].stability) for row in summary], styles
        ),
        key="lab-stability",
    )
    if len(seeds_measured) > 1:
        st.caption(f"The shift curves average the seeds; the stability curves are seed {seeds_measured[0]}'s.")
    held_back = sorted({row["seed"] for row in measured_rows} - set(seeds_measured))
    if held_back:
        st.caption(
            "Seed " + ", ".join(map(str, held_back)) + " is left out until every model of it is trained and measured."
        )

    st.subheader("Digits a one-pixel move changed")
    by_title = {row["title"]: row for row in summary}
    picked = st.selectbox("Model", list(by_title), key="lab-flip-model")
    row = by_title[picked]
    flips = measured.ready[row["run_ids"][0]].stability.flips[:12]
    if not flips:
        st.success("No test digit of the sample changed its answer when moved by one pixel.", icon=":material/check:")
        return
    size = DIGIT if row["view"] == "window" else FIELD
    with st.container(key="grid-flips"):
        for flip in flips:
            before, after = measures.flip_views(flip, row["view"])
            with st.container(border=True, gap="small"):
                with st.container(horizontal=True, gap="small"):
                    st.image(drawing.enlarge(before, 112 // size + 1), width=96, clamp=True)
                    st.image(drawing.enlarge(after, 112 // size + 1), width=96, clamp=True)
                st.caption(
                    f"{flip.before} ({flip.before_probability:.0%}) → moved ({flip.move[0]:+d}, {flip.move[1]:+d}) → "
                    f"{flip.after} ({flip.after_probability:.0%})"
                )


results()
