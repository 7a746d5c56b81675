"""Train: pick a model and settings, start a run, watch it learn live, see how it did."""

import streamlit as st

from mnistviz import ui
from mnistviz.analysis import evaluation, lab
from mnistviz.errors import MnistvizError
from mnistviz.learning import data, models
from mnistviz.learning.spec import DEFAULT_BATCH_SIZE, LIMITS, RunSpec
from mnistviz.runs import access, curves
from mnistviz.show import display, plots, text

ui.page_setup("Train")


def limits(name: str) -> str:
    return "From {} to {}.".format(
        *(f"{bound:,}" if isinstance(bound, int) else f"{bound:g}" for bound in LIMITS[name])
    )


WHOLE_NUMBERS = ("epochs", "batch_size", "train_size", "seed", "augment_shift")
FORM_FIELDS = ("epochs", "learning_rate", "train_size", "seed", "augment_shift", "name", "head", "padding", "pool")
CNN_SETTINGS = {  # the Shift Lab's variables: (label, what each choice means)
    "head": (
        "Head",
        {"flatten": "Flatten (the notebook's)", "gmp": "Global max pooling", "gap": "Global average pooling"},
    ),
    "padding": ("Padding", {"notebook": "The notebook's", "same": "Same everywhere"}),
    "pool": ("Pooling", {"max": "Max (the notebook's)", "blur": "Blur (anti-aliased)"}),
}
INPUT_NAMES = {"window": "The 28x28 window (the notebook's)", "field": "The whole 56x56 field"}
ARCH_NAMES = {"mlp": "MLP (dense layers)", "cnn": "CNN (convolutions)"}
DATA_NAMES = {"centered": "Centered 28x28", "offset": "Offset in a 56x56 field"}

manager = ui.manager()
store = manager.store

st.title("Train")


FOLLOW = "follow-queue"  # this session follows the class's queue (kept apart from its toggle: Home sets it)


def follow_changed() -> None:
    st.session_state[FOLLOW] = st.session_state["train-follow"]


def chosen_run_id() -> str | None:
    """The run this page shows: this session's, the one in the address (survives a reload), or the newest active.

    Whichever it is, it is kept (and put in the address): a run watched here stays shown after it ends.
    Following the class's queue, it is the run training now (the next one as each ends), while one trains.
    """
    if st.session_state.get(FOLLOW):
        active = manager.active()
        if active:
            show_run(active[0].run_id)  # running first, then the next to start
            return active[0].run_id
    for run_id in (st.session_state.get("train_run_id"), st.query_params.get("run")):
        if run_id:
            try:
                if store.folder(run_id).is_dir():
                    show_run(run_id)
                    return run_id
            except MnistvizError:
                pass
    asked = st.query_params.get("run")
    if asked:  # a mistyped, old or deleted address: said, then off the address
        shown = asked if len(asked) <= 60 else asked[:60] + "..."
        st.warning(f"There is no run “{text.markdown(shown)}” here: it was deleted, or the address is wrong.")
        del st.query_params["run"]
    active = manager.active()
    if not active:
        return None
    show_run(active[0].run_id)
    return active[0].run_id


def show_run(run_id: str) -> None:
    st.session_state["train_run_id"] = run_id
    if st.query_params.get("run") != run_id:
        st.query_params["run"] = run_id


FORM_START = "form-start"  # the form's first values in this session, given to each widget as its default


def form_start(spec: RunSpec | None) -> dict:
    """The form's first values in this session: the shown run's settings (after a reload), else the defaults.

    Given to each widget as its default, never set through the session state: a value set there reaches the
    browser only in the run that draws its widget, so a first run cut short by a click (a fresh server loads
    TensorFlow meanwhile) left the browser showing an empty field while the server held 0.001.
    """
    if FORM_START not in st.session_state:
        if spec is None:
            values = {name: RunSpec.default(name) for name in FORM_FIELDS}
            values |= {"arch": "mlp", "data": "centered", "batch_size": DEFAULT_BATCH_SIZE["mlp"]}
        else:
            values = {name: getattr(spec, name) for name in ("arch", "data", "batch_size", *FORM_FIELDS)}
        values["input"] = "field" if spec is not None and spec.field_control else "window"
        values["learning_rate"] = f"{values['learning_rate']:g}"  # a text input
        values |= {name: float(values[name]) for name in WHOLE_NUMBERS}  # float inputs: see `whole_number_input`
        st.session_state[FORM_START] = values
    return st.session_state[FORM_START]


def choice(widget, label: str, choices: dict, name: str, help: str | None = None) -> str:
    """A radio or select box of the form: `choices` maps each value to its label; it starts at the form's value."""
    options = {"horizontal": True} if widget is st.radio else {}
    return widget(
        label,
        list(choices),
        index=list(choices).index(start[name]),
        format_func=choices.get,
        key=f"form-{name}",
        help=help,
        **options,
    )


def shown_spec(run_id: str | None) -> RunSpec | None:
    if run_id is None:
        return None
    try:
        return store.load(run_id).spec
    except MnistvizError:
        return None


def whole_number_input(where, label: str, key: str, first: float, step: float, help: str) -> float | None:
    """A number input that hands over what was sent, for `RunSpec.from_form` to refuse or take.

    Float: Streamlit would round a forged 1.7 in a whole-number input to 1; here 1.7 arrives as 1.7. No
    min or max: Streamlit would replace a value out of range by the default; here it is refused with a message.
    """
    return where.number_input(label, value=first, step=step, format="%.0f", key=key, help=help)


shown_at_start = chosen_run_id()
start = form_start(shown_spec(shown_at_start))
forged = ui.forged_choices(  # read before the widgets below replace a choice they do not offer by their first
    {
        "form-arch": ("Architecture", ARCH_NAMES),
        "form-data": ("Data", DATA_NAMES),
        "form-input": ("Input", INPUT_NAMES),
        **{f"form-{name}": (label, choices) for name, (label, choices) in CNN_SETTINGS.items()},
    }
)
for said in forged:
    ui.show_error(MnistvizError(said))

if shown_at_start is None:  # nothing to watch: the settings, and beside them (or below) what they start
    with st.container(key="split-train"):
        settings = st.container()
        view = st.container(key="train-view")
else:  # a run to watch comes first, its curves above the fold on a projector; the form folds away under it
    view = st.container(key="train-view")
    settings = st.expander("Train another run", icon=":material/tune:")

with settings:
    if shown_at_start is None:  # the expander says it otherwise
        st.subheader("Settings")
    arch = choice(st.radio, "Architecture", ARCH_NAMES, "arch")
    variant_name = choice(st.radio, "Data", DATA_NAMES, "data")
    cnn_settings = {name: RunSpec.default(name) for name in CNN_SETTINGS}
    if arch == "cnn":
        with st.container(key="grid-cnn-settings"):
            for name, (label, choices) in CNN_SETTINGS.items():
                cnn_settings[name] = choice(st.selectbox, label, choices, name, help=lab.HELP[name])
    model_input = None  # the notebook's: the window for centered digits, else the field
    if variant_name == "centered" and cnn_settings["head"] == "flatten":
        model_input = choice(
            st.radio,
            "Input",
            INPUT_NAMES,
            "input",
            help="What the model is given. On the whole field, the centered digits sit in its middle, as for a "
            "global pooling head: the Shift Lab's fair test of the head.",
        )
    try:
        shape = RunSpec(arch, variant_name, **cnn_settings, input=model_input)
        st.caption(
            f"{shape.model_name}: {models.parameter_count(shape):,} parameters; it sees "
            + ("the middle 28x28 window" if shape.view == "window" else "the whole 56x56 field")
            + ("" if variant_name == "offset" or shape.view == "window" else ", the centered digits in its middle")
            + "."
        )
    except MnistvizError as error:
        ui.show_error(error)
    try:
        variant = data.load_variant(variant_name)
        labels = ", ".join(str(label) for label in variant.y_train[:8])
        st.image(
            display.digit_strip(variant.x_train[:8], scale=2 if variant_name == "offset" else 4),
            caption=f"Training digits of this variant: {labels}",
        )
    except MnistvizError as error:
        ui.show_error(error)
        variant = None
    with st.form("spec"):  # no min/max on the inputs: a value out of range is refused with a message, not dropped
        fields = st.container(key="grid-fields")
        epochs = whole_number_input(fields, "Epochs", "form-epochs", start["epochs"], 1.0, limits("epochs"))
        batch_size = whole_number_input(  # kept per architecture
            fields,
            "Batch size",
            f"batch-{arch}",
            start["batch_size"] if arch == start["arch"] else float(DEFAULT_BATCH_SIZE[arch]),
            32.0,
            limits("batch_size"),
        )
        learning_rate = fields.text_input(  # text: Streamlit would quietly turn a forged NaN into the default
            "Learning rate", value=start["learning_rate"], key="form-learning-rate", help=limits("learning_rate")
        )
        train_size = whole_number_input(
            fields,
            "Training digits",
            "form-train-size",
            start["train_size"],
            1000.0,
            "Train on a random subset to go faster. " + limits("train_size"),
        )
        seed = whole_number_input(fields, "Seed", "form-seed", start["seed"], 1.0, limits("seed"))
        augment_shift = whole_number_input(
            fields,
            "Random shift",
            "form-augment-shift",
            start["augment_shift"],
            1.0,
            "Augmentation: move every training digit by a random amount up to this many pixels, new each batch. "
            + limits("augment_shift"),
        )
        name = st.text_input(  # no max_chars: Streamlit would cut a longer name; the spec refuses it instead
            "Name (optional)",
            value=start["name"],
            placeholder=f"{arch.upper()} {variant_name}",
            key="form-name",
            help="At most 80 characters.",
        )
        start = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:", width="stretch")
    if start:
        try:
            if forged:
                raise MnistvizError("nothing was queued: " + "; ".join(forged))
            spec = RunSpec.from_form(
                arch=arch,
                data=variant_name,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                train_size=train_size,
                seed=seed,
                augment_shift=augment_shift,
                name=name,
                input=model_input,
                **cnn_settings,
            )
            if variant is None:
                raise MnistvizError("cannot train without the data: see the message above")
            (job,) = ui.submit([spec])
            if job.owner != ui.session_owner():
                st.toast(
                    "This very run was already trained: you see it here. Change the seed to train a new one."
                    if job.done.is_set()
                    else "Someone asked for this very run already: you watch it with them, and it trains once.",
                    icon=":material/group:",
                )
            show_run(job.run_id)
            st.session_state[FOLLOW] = False  # the run just asked for is the one to watch
            st.session_state["train-scroll"] = True
        except MnistvizError as error:
            ui.show_error(error)

run_id = chosen_run_id()

with view:
    if st.session_state.pop("train-scroll", False):  # on a narrow screen the run is below the form
        ui.scroll_into_view("train-view")
    if run_id is None:
        st.info("No run yet. Choose the settings and press **Train**.", icon=":material/info:")
        st.stop()
    st.toggle(
        "Follow the class's queue",
        value=st.session_state.get(FOLLOW, False),
        key="train-follow",
        on_change=follow_changed,
        help="Show whatever trains now, and the next run as each one ends: for the projector during a lesson.",
    )
    job = manager.get(run_id)
    active = job is not None and not job.done.is_set()

    @st.cache_resource(max_entries=8, show_spinner=False)
    def live_curves(run_id: str, batches: int, epochs: int, samples_seen: int, _snapshot, _spec):
        """A running run's chart as of `batches` and `epochs`: built once for every session watching it."""
        history = {"batches": list(_snapshot.batches), "epochs": list(_snapshot.epochs)}
        curve = curves.batch_curve(history, curves.steps_per_epoch(_spec))
        return plots.training_curves(curve, history["epochs"], epochs_total=_spec.epochs)

    @ui.refresh_while(lambda: job is not None and not job.done.is_set())
    def live_run() -> None:
        snapshot = job.snapshot()
        spec = job.spec
        st.subheader(f"{text.markdown(spec.label)}: {snapshot.status}")
        st.caption(spec.summary)
        if snapshot.status == "queued":
            position = manager.queue_position(run_id)  # None: it left the queue since the snapshot, and starts
            st.info(
                f"Waiting for the run before it to finish: place {position} in the queue."
                if position
                else "Starting: its training process is on its way.",
                icon=":material/hourglass_top:",
            )
        else:
            epoch_now = min(snapshot.epoch + 1, snapshot.epochs_total)
            st.progress(
                snapshot.fraction,
                text=(
                    f"Epoch {epoch_now} of {snapshot.epochs_total} · {snapshot.samples_per_second:,.0f} samples/s · "
                    + display.time_left(snapshot)
                ),
            )
        rights = ui.session_access()
        owners = job.owners
        if len(owners) > 1:
            st.caption(
                f"{len(owners)} people asked for this same run: it trains once, for all of them. It stops when "
                "every one of them has pressed Stop, or when the teacher does."
            )
        asked = rights.session in job.stop_asked and not rights.in_charge
        allowed = rights.may_stop(owners) and not asked
        if st.button(
            "Stop",
            icon=":material/stop:",
            key="stop",
            disabled=not allowed,
            help=(
                "You pressed Stop: the others who asked for this run still want it."
                if asked
                else None
                if allowed
                else "Someone else started this run: only they or the teacher can stop it."
            ),
        ):
            try:
                said = access.stop_run(manager, run_id, rights)
                if said:
                    st.toast(said)
            except MnistvizError as error:
                ui.show_error(error)
        if snapshot.status != "queued":  # a waiting run has no curves yet: skip the chart, the costly part
            ui.chart(
                live_curves(run_id, len(snapshot.batches), len(snapshot.epochs), snapshot.samples_seen, snapshot, spec),
                key="live-curves",
            )

    if active:
        live_run()
    else:
        try:
            record = store.load(run_id)
        except MnistvizError as error:  # deleted a moment ago (the queue cleared, the teacher deleting)
            ui.show_error(error)
            st.stop()
        st.subheader(f"{text.markdown(record.label)}: {record.status}")
        if record.spec is not None:
            st.caption(record.spec.summary)
        st.caption(display.trained_where(record))
        if record.status == "failed":
            st.error(f"This run failed: {text.markdown(record.error)}", icon=":material/error:")
        elif record.status == "damaged":
            st.error(f"This run's files are damaged: {text.markdown(record.error)}", icon=":material/error:")
        elif record.status == "stopped" and record.error:  # stopped by the server, not by a user's Stop
            st.info(f"Stopped: {text.markdown(record.error)}.", icon=":material/timer_off:")
        elif record.status == "interrupted":
            why = f" ({text.markdown(record.error)})" if record.error else ""
            st.warning(
                f"This run's training stopped before its end{why}; it kept {record.epochs_done} epochs.",
                icon=":material/warning:",
            )
        if record.spec is not None and record.status != "damaged":  # a damaged run's numbers are not to be trusted
            spec = record.spec
            columns = [*st.columns(2), *st.columns(2)]  # two abreast: four in a row cut "97.38%" to "97.3..."
            columns[0].metric(
                "Test accuracy", f"{record.test_accuracy:.2%}" if record.test_accuracy is not None else "-"
            )
            columns[1].metric(
                "Best validation accuracy", f"{record.best_val_accuracy:.2%}" if record.best_val_accuracy else "-"
            )
            columns[2].metric("Epochs", f"{record.epochs_done} of {spec.epochs}")
            columns[3].metric("Time per epoch", display.format_seconds(record.seconds_per_epoch))
            history = store.history(run_id)
            curve = curves.batch_curve(history, curves.steps_per_epoch(spec))
            ui.chart(
                plots.training_curves(curve, record.epochs, spec.epochs, history["batch_values"]),
                key="final-curves",
            )
            predictions = store.test_predictions(run_id)
            if predictions is not None:
                try:
                    test_set = data.load_variant(spec.data)
                except MnistvizError as error:
                    ui.show_error(error)
                    st.stop()
                if len(predictions) == len(test_set.y_test):
                    # one above the other: side by side, the 10x10 matrix got ~200 px and its counts were unreadable
                    matrix_column, gallery_column = st.container(), st.container()
                    with matrix_column:
                        st.markdown("**Confusion matrix** (test digits)")
                        counts = evaluation.confusion_matrix(test_set.y_test, predictions)
                        ui.chart(plots.confusion_figure(counts), key="confusion")
                    with gallery_column:
                        cells = {"all": "Every misclassified digit"} | {
                            f"{true}-{predicted}": f"true {true}, answered {predicted} ({count})"
                            for true, predicted, count in evaluation.cells_by_count(counts)
                        }
                        cell = st.selectbox(
                            "Open a cell of the matrix", list(cells), format_func=cells.get, key="confusion-cell"
                        )
                        if cell == "all":
                            shown = evaluation.mistakes(test_set.y_test, predictions)
                            st.markdown(f"**Misclassified test digits** ({shown.count} of {len(predictions)})")
                        else:
                            true, predicted = map(int, cell.split("-"))
                            shown = evaluation.in_cell(test_set.y_test, predictions, true, predicted)
                            st.markdown(f"**Test digits {true} the model read as {predicted}** ({shown.count})")
                        ui.chart(
                            plots.digit_gallery(test_set.x_test[shown.shown], shown.titles, columns=6),
                            key="mistakes",
                            config={"staticPlot": True},
                        )
                        st.caption("Each digit is titled true → predicted; the first 24 are shown.")
