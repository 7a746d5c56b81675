"""Home, Train and Compare under Streamlit's AppTest: empty states, saved runs, a real tiny training."""

import time

import pytest

from mnistviz.analysis import shift_maps
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.progress import RunProgress
from mnistviz.runs.store import RunStore
from mnistviz.training.jobs import Job, get_manager
from tests.conftest import open_page, save_fake_run


@pytest.fixture
def four_runs(runs_dir):
    store = RunStore(runs_dir)
    values = {("mlp", "centered"): 0.981, ("cnn", "centered"): 0.99, ("mlp", "offset"): 0.89, ("cnn", "offset"): 0.98}
    return {key: save_fake_run(store, RunSpec(*key), val, val - 0.002) for key, val in values.items()}


def test_home_without_runs_offers_to_train_each_model(runs_dir):
    at = open_page("app.py")
    train_buttons = [b for b in at.button if b.label == "Train with the notebook's settings"]
    assert len(train_buttons) == 4
    assert sum(m.value.startswith("Not trained yet. The notebook") for m in at.markdown) == 4


def test_a_failed_run_of_a_notebook_model_shows_on_its_card_with_the_fix(runs_dir):
    """Offline with no MNIST the class preset's runs failed in 0.3 s, and Home went on saying "Not trained yet"."""
    store = RunStore(runs_dir)
    run_id = store.create(RunSpec("cnn", "offset", epochs=3))
    store.write_status(run_id, "failed", error="Could not load MNIST. Fix: connect the server to the internet once")
    at = open_page("app.py")
    (said,) = [error.value for error in at.error]
    assert said.startswith("Its last run failed: Could not load MNIST") and "connect the server" in said


def test_a_matrix_cell_in_training_says_so_and_offers_no_button_to_train_it_again(
    four_runs, runs_dir, monkeypatch, train_in_threads
):
    """Seen with the class preset running: the card said "Training now" and the matrix "Not trained yet"."""
    import threading

    from mnistviz.training import fit
    from tests.test_jobs import _blocking_execute

    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    store = RunStore(runs_dir)
    store.delete(four_runs[("cnn", "offset")])
    manager = get_manager(runs_dir)
    manager.submit(RunSpec("cnn", "offset", epochs=3))
    try:
        for page in ("app.py", "pages/compare.py"):
            at = open_page(page)
            assert shift_maps.cross_matrix_task(manager.tasks, store).done.wait(60)
            at.run()  # the matrix is ready: what the page shows under it
            said = " ".join(m.value for m in at.markdown)
            assert "CNN on offset: Training now" in said or "CNN on offset: Waiting in the training queue" in said
            (missing,) = [m.value for m in at.markdown if m.value.startswith("Not trained yet: ")]
            assert "CNN on offset" not in missing, page  # the fake runs have no models: the other three are missing
    finally:
        release.set()
    assert all(manager.wait(job.run_id, 30) for job in manager.active())


def test_home_queues_the_class_preset(runs_dir, monkeypatch, train_in_threads):
    from mnistviz.training import fit

    def finish_at_once(spec, run_id, store, progress, stop, *_):
        store.write_status(run_id, "finished")
        progress.finish("finished")
        return "finished"

    monkeypatch.setattr(fit, "execute", finish_at_once)
    at = open_page("app.py")
    at.button(key="class-preset").click()
    at.run()
    assert not at.exception
    specs = sorted((r.spec.arch, r.spec.data, r.spec.lr_schedule) for r in RunStore(runs_dir).list())
    assert specs == sorted((arch, data, "cosine") for arch in ("mlp", "cnn") for data in ("centered", "offset"))
    again = open_page("app.py")  # another student, or the teacher pressing twice
    assert not [b for b in again.button if b.key == "class-preset"]
    assert any("All four class runs" in s.value for s in again.success)
    assert len(RunStore(runs_dir).list()) == 4


def test_home_says_how_long_the_preset_takes_here_and_queues_only_what_is_missing(
    runs_dir, monkeypatch, train_in_threads
):
    from mnistviz.learning import presets
    from mnistviz.training import fit

    monkeypatch.setattr(fit, "execute", lambda spec, run_id, store, progress, stop, *_: "finished")
    store = RunStore(runs_dir)
    specs = presets.preset_specs("class")
    for spec in specs[:3]:  # three exist, each trained at 1.5 s an epoch
        save_fake_run(store, spec, 0.9, 0.9)
    other_offset_cnn = save_fake_run(store, RunSpec("cnn", "offset", batch_size=128, train_size=60_000), 0.9, 0.9)
    before = {record.run_id for record in store.list()}
    at = open_page("app.py")
    (button,) = [b for b in at.button if b.key == "class-preset"]
    from mnistviz.training import estimates

    seconds = estimates.seconds_for([specs[3]], store.list())
    assert seconds == pytest.approx(max(specs[3].epochs * 1.5, estimates.least_seconds(specs[3])))  # its kind's pace
    assert button.label == f"Train the 1 missing ({estimates.minutes_text(seconds)} on this server)"
    button.click()
    at.run()
    queued = [record.spec for record in store.list() if record.run_id not in before]
    assert queued == [specs[3]] and other_offset_cnn in before


def test_an_empty_matrix_says_what_to_do(runs_dir):
    at = open_page("app.py")
    deadline = time.monotonic() + 30
    while not any("matrix is empty" in info.value for info in at.info) and time.monotonic() < deadline:
        at.run()  # the matrix is computed in the background
    assert any("matrix is empty" in info.value for info in at.info)
    assert not [chart for chart in at.get("plotly_chart") if chart.key.startswith("matrix-")]


def test_home_with_runs_shows_their_accuracy(four_runs):
    at = open_page("app.py")
    assert not [b for b in at.button if b.label == "Train with the notebook's settings"]
    test_metrics = sorted(m.value for m in at.metric if m.label == "Test accuracy")
    assert test_metrics == ["88.80%", "97.80%", "97.90%", "98.80%"]


def test_train_page_without_runs_explains_what_to_do(runs_dir):
    at = open_page("pages/train.py")
    assert any("No run yet" in info.value for info in at.info)


def test_the_train_form_and_the_cli_start_from_the_specs_defaults(runs_dir, monkeypatch):
    from mnistviz.cli import build_parser
    from mnistviz.learning import spec as spec_module

    fields = {"epochs": 7, "learning_rate": 0.005, "train_size": 30000, "seed": 3, "augment_shift": 2}
    for name, value in fields.items():  # new defaults, written in one place only
        monkeypatch.setattr(RunSpec.__dataclass_fields__[name], "default", value)
    monkeypatch.setitem(spec_module.DEFAULT_BATCH_SIZE, "mlp", 512)
    page = open_page("pages/train.py")
    inputs = {n.label: n.value for n in page.number_input} | {
        t.label: float(t.value) for t in page.text_input if t.value
    }
    labels = {"epochs": "Epochs", "learning_rate": "Learning rate", "train_size": "Training digits", "seed": "Seed"}
    labels["augment_shift"] = "Random shift"
    assert {name: inputs[label] for name, label in labels.items()} == fields
    assert inputs["Batch size"] == 512
    cli = build_parser().parse_args(["train", "--arch", "mlp", "--data", "centered"])
    assert (cli.epochs, cli.lr, cli.train_size, cli.seed, cli.augment_shift) == tuple(fields.values())
    assert RunSpec("mlp", "centered", batch_size=cli.batch_size).batch_size == 512


def test_train_page_rejects_a_batch_larger_than_the_training_set(runs_dir):
    at = open_page("pages/train.py")
    inputs = {n.label: n for n in at.number_input}
    inputs["Training digits"].set_value(100)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any("cannot be larger than the training set" in e.value for e in at.error)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


@pytest.mark.integration
def test_train_page_trains_a_tiny_run_to_the_end(runs_dir, mnist_npz, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_DATA", str(mnist_npz))  # runs where no copy of MNIST can be found
    at = open_page("pages/train.py")
    inputs = {n.label: n for n in at.number_input}
    inputs["Epochs"].set_value(2)
    inputs["Training digits"].set_value(600)
    inputs["Batch size"].set_value(50)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception
    run_id = at.session_state["train_run_id"]
    store = RunStore(runs_dir)
    deadline = time.monotonic() + 120
    while store.load(run_id).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert store.load(run_id).status == "finished"
    assert get_manager(runs_dir).wait(run_id, 5)  # the dashboard has read the end of its progress log
    at.run()
    assert not at.exception, at.exception
    assert "finished" in at.subheader[-1].value
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Epochs"] == "2 of 2" and metrics["Test accuracy"].endswith("%")
    assert any("Misclassified" in m.value for m in at.markdown)


def test_compare_without_runs_points_to_train(runs_dir):
    at = open_page("pages/compare.py")
    assert any("No saved runs" in info.value for info in at.info)


def test_compare_shows_the_table_of_chosen_runs(four_runs):
    at = open_page("pages/compare.py")
    table = at.dataframe[0].value
    assert len(table) == 4
    assert set(table["architecture"]) == {"MLP", "CNN"}
    assert sorted(table["test accuracy"]) == [" 88.80%", " 97.80%", " 97.90%", " 98.80%"]
    assert set(table["consistency"]) == {"-"}  # not measured yet, and not being measured


def test_compare_deletes_a_run(four_runs, runs_dir):
    at = open_page("pages/compare.py")
    doomed = at.multiselect(key="doomed")
    doomed.set_value([four_runs[("mlp", "centered")]])
    at.checkbox(key="confirm-delete").check()
    at.run()
    next(b for b in at.button if b.label == "Delete").click()
    at.run()
    assert not at.exception
    assert len(RunStore(runs_dir).list()) == 3
    assert at.multiselect(key="doomed").value == [] and not at.checkbox(key="confirm-delete").value  # box emptied


def test_compare_selects_stopped_runs_with_epochs_and_offers_smoothing_only_for_long_curves(four_runs, runs_dir):
    store = RunStore(runs_dir)
    stopped = save_fake_run(store, RunSpec("mlp", "centered", name="stopped early"), 0.9, 0.9)
    store.write_status(stopped, "stopped")
    at = open_page("pages/compare.py")
    assert any(label.startswith("stopped early") for label in at.multiselect[0].value)
    assert not [slider for slider in at.slider if slider.label == "Smoothing"]  # two epochs a run: nothing to smooth
    long = save_fake_run(store, RunSpec("mlp", "centered", name="long"), 0.9, 0.9, epochs=12)
    assert long
    assert [slider for slider in open_page("pages/compare.py").slider if slider.label == "Smoothing"]


def test_after_a_reload_the_form_shows_the_shown_runs_settings(runs_dir):
    spec = RunSpec("cnn", "offset", epochs=3, batch_size=128, learning_rate=0.002, seed=5, name="mine")
    run_id = save_fake_run(RunStore(runs_dir), spec, 0.9, 0.9)
    at = open_page("pages/train.py", {"run": run_id})
    assert at.radio(key="form-arch").value == "cnn" and at.radio(key="form-data").value == "offset"
    assert at.number_input(key="form-epochs").value == 3 and at.number_input(key="batch-cnn").value == 128
    assert at.text_input(key="form-learning-rate").value == "0.002" and at.number_input(key="form-seed").value == 5
    assert at.text_input(key="form-name").value == "mine"


def test_the_train_form_draws_each_value_it_holds_as_its_widgets_first_value(runs_dir):
    """What the browser draws of the form, before the server pushes it any value, is what the server holds.

    A value set through the session state reaches the browser only in the run that draws its widget. On a fresh
    server, a click during the Train page's first run (loading TensorFlow) cut that run short, and the browser then
    drew an empty Learning rate box while the server held 0.001: Train said "not ''" to a student who typed nothing.
    """
    spec = RunSpec("cnn", "centered", epochs=3, batch_size=128, learning_rate=0.002, seed=5, head="gap", pool="blur")
    run_id = save_fake_run(RunStore(runs_dir), spec, 0.9, 0.9)
    for at in (open_page("pages/train.py"), open_page("pages/train.py", {"run": run_id})):
        fields = [*at.number_input, *at.text_input]
        choices = [*at.radio, *at.selectbox]
        assert len(fields) == 7 and len(choices) >= 3
        for field in fields:
            assert field.proto.default == field.value, field.key
        for choice in choices:
            assert choice.proto.default == choice.index, choice.key
    assert (at.text_input(key="form-learning-rate").value, at.selectbox(key="form-head").value) == ("0.002", "gap")


def test_the_train_form_offers_the_labs_cnn_settings_with_their_parameter_counts(runs_dir, monkeypatch):
    submitted = []

    def queue(specs):  # record what Train asks for, and give it a run to show, without training
        submitted.extend(specs)
        ids = [RunStore(runs_dir).create(spec) for spec in specs]
        return [Job(run_id, spec, RunProgress(run_id, spec.epochs)) for run_id, spec in zip(ids, specs, strict=True)]

    monkeypatch.setattr("mnistviz.ui.submit", queue)
    at = open_page("pages/train.py")
    assert not [box for box in at.selectbox if box.key == "form-head"]  # an MLP has no head to choose
    assert any("MLP: 535,818 parameters; it sees the middle 28x28 window." in c.value for c in at.caption)
    at.radio(key="form-arch").set_value("cnn").run()
    at.selectbox(key="form-head").set_value("gmp")
    at.selectbox(key="form-padding").set_value("same")
    at.selectbox(key="form-pool").set_value("blur").run()
    assert any(
        "CNN-gmp-same-blur: 60,554 parameters; it sees the whole 56x56 field, the centered digits in its middle."
        in c.value
        for c in at.caption
    )
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception
    (spec,) = submitted
    assert (spec.head, spec.padding, spec.pool, spec.view) == ("gmp", "same", "blur", "field")


def test_after_a_reload_the_form_shows_a_lab_runs_cnn_settings(runs_dir):
    spec = RunSpec("cnn", "centered", head="gap", pool="blur")
    run_id = save_fake_run(RunStore(runs_dir), spec, 0.9, 0.9)
    at = open_page("pages/train.py", {"run": run_id})
    assert at.selectbox(key="form-head").value == "gap" and at.selectbox(key="form-pool").value == "blur"
    assert at.selectbox(key="form-padding").value == "notebook"


def test_the_train_form_gives_a_centered_flatten_model_the_whole_field_when_asked(runs_dir, monkeypatch):
    submitted = []

    def queue(specs):
        submitted.extend(specs)
        ids = [RunStore(runs_dir).create(spec) for spec in specs]
        return [Job(run_id, spec, RunProgress(run_id, spec.epochs)) for run_id, spec in zip(ids, specs, strict=True)]

    monkeypatch.setattr("mnistviz.ui.submit", queue)
    at = open_page("pages/train.py")
    at.radio(key="form-arch").set_value("cnn").run()
    assert at.radio(key="form-input").value == "window"
    at.radio(key="form-input").set_value("field").run()
    assert any("CNN: 158,858 parameters; it sees the whole 56x56 field" in c.value for c in at.caption)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception
    (spec,) = submitted
    assert (spec.head, spec.view, spec.field_control) == ("flatten", "field", True)
    at.radio(key="form-data").set_value("offset").run()
    assert not [radio for radio in at.radio if radio.key == "form-input"]  # an offset model takes the field
    (record,) = RunStore(runs_dir).list()
    reloaded = open_page("pages/train.py", {"run": record.run_id})
    assert reloaded.radio(key="form-input").value == "field"  # a reload shows the run's own settings
