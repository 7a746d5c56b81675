"""The Shift Lab's grid, its question and the class's answers, without Streamlit or TensorFlow."""

import threading

import pytest

from mnistviz.analysis import lab, shifts
from mnistviz.analysis.measures import Measures
from mnistviz.analysis.shifts import ShiftMap
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from tests.conftest import save_fake_run


def corner_map(middle: float, corner: float) -> ShiftMap:
    """A shift map with `middle` accuracy unmoved and `corner` at the lab's corner (everything else 0.5)."""
    grid = shifts.shift_grid(2)
    values = [middle if move == (0, 0) else corner if move == lab.CORNER else 0.5 for move in grid]
    return ShiftMap(grid, values)


def test_the_grid_is_every_model_on_centered_digits_then_the_augmented_ones():
    cells = lab.grid()
    assert [cell.title for cell in cells] == [
        "MLP",
        "CNN",
        "CNN-field",
        "CNN-gmp",
        "CNN-gmp-same",
        "CNN-gmp-same-blur",
        "MLP, shifted ±2 px",
        "CNN, shifted ±2 px",
        "CNN-gmp-same, shifted ±2 px",
        "CNN-gmp-same-blur, shifted ±2 px",
    ]
    assert all(cell.spec.data == "centered" and cell.spec.epochs == 2 and cell.spec.batch_size == 128 for cell in cells)
    assert [cell.spec.view for cell in cells[:6]] == ["window", "window", "field", "field", "field", "field"]
    assert len({cell.spec for cell in cells}) == len(cells) and all(cell.seed == 0 for cell in cells)
    assert {cell.seed for cell in lab.grid(3)} == {3} and lab.grid(3)[0].spec.name == "Lab MLP seed 3"


def test_each_comparison_is_of_two_models_that_differ_in_exactly_its_variable():
    specs = {cell.model: cell.spec for cell in lab.grid() if not cell.augment}
    settings = ("arch", "view", "head", "padding", "pool")
    names = {"input": "view", "head": "head", "padding": "padding", "pooling": "pool"}
    for variable, (first, second) in lab.COMPARISONS.items():
        differ = [s for s in settings if getattr(specs[first], s) != getattr(specs[second], s)]
        assert differ == [names[variable]], (variable, differ)
        same = ("data", "epochs", "batch_size", "learning_rate", "train_size", "seed", "augment_shift")
        assert all(getattr(specs[first], s) == getattr(specs[second], s) for s in same)


def test_the_table_spans_every_seed_the_grid_has_and_the_teacher_can_add_one(tmp_path):
    store = RunStore(tmp_path)
    assert lab.seeds(store.list()) == [0] and lab.next_seed(store.list()) == 1
    for cell in lab.grid(1)[:2]:
        (store.root / save_fake_run(store, cell.spec, 0.9, 0.9) / "model.keras").write_bytes(b"x")
    save_fake_run(store, RunSpec("cnn", "centered", seed=7), 0.9, 0.9)  # not a grid run: no seed of the grid
    records = store.list()
    assert lab.seeds(records) == [0, 1] and lab.next_seed(records) == 2
    runs = lab.grid_runs(records)
    assert sorted((cell.title, cell.seed) for cell in runs) == [("CNN", 1), ("MLP", 1)]
    untrained = lab.untrained(records)
    assert len(untrained) == 2 * len(lab.grid()) - 2  # seed 0 whole, and the rest of seed 1
    assert {spec.seed for spec in lab.untrained(records, [2])} == {2}


def test_the_summary_is_each_models_mean_over_its_seeds_with_the_range():
    def row(model, seed, corner, augment=0):
        measures = {name: 0.9 for name in lab.MEASURED} | {"corner": corner}
        return {
            "model": model,
            "augment": augment,
            "title": model,
            "seed": seed,
            "view": "field",
            "run_id": f"{model}{seed}",
            "params": 1,
            "multiply_adds": 2,
            **measures,
        }

    rows = [row("CNN-gmp", 1, 0.6), row("CNN", 0, 0.1), row("CNN-gmp", 0, 0.8), row("CNN-gmp", 2, 0.7)]
    cnn, gmp = lab.summarize(rows)  # in the grid's order
    assert cnn["model"] == "CNN" and cnn["seeds"] == [0] and cnn["range"]["corner"] == (0.1, 0.1)
    assert gmp["corner"] == pytest.approx(0.7) and gmp["range"]["corner"] == (0.6, 0.8) and gmp["seeds"] == [0, 1, 2]
    assert lab.outcome([cnn, gmp]) == {"CNN": False, "CNN-gmp": False}  # 70% kept is below the lab's 85%
    why = lab.seen_or_not([{**cnn, "view": "window"}, gmp], 0.35)
    assert why == {
        "CNN": "saw only 35% of the digit's ink, what is left in its window",
        "CNN-gmp": "saw the whole digit and failed",
    }


def test_the_mean_map_averages_the_seeds_shift_by_shift():
    mean = lab.mean_map([corner_map(0.9, 0.2), corner_map(0.7, 0.4)])
    assert mean.at(0, 0) == pytest.approx(0.8) and mean.at(*lab.CORNER) == pytest.approx(0.3)


def test_a_grid_cell_is_its_newest_finished_run_with_exactly_its_settings(tmp_path):
    store = RunStore(tmp_path)
    cnn = lab.grid()[1]
    older = save_fake_run(store, cnn.spec, 0.9, 0.9)
    newer = save_fake_run(store, RunSpec.from_dict({**cnn.spec.to_dict(), "name": "mine"}), 0.9, 0.9)
    save_fake_run(store, RunSpec.from_dict({**cnn.spec.to_dict(), "seed": 1}), 0.9, 0.9)  # other settings
    running = store.create(lab.grid()[0].spec)
    store.write_status(running, "running")
    stopped = save_fake_run(store, cnn.spec, 0.1, 0.1)  # the newest, stopped after a batch: not an answer
    store.write_status(stopped, "stopped", started=1.0, ended=2.0)
    for run_id in (older, newer, stopped):
        (store.root / run_id / "model.keras").write_bytes(b"x")
    assert {cell.title: record.run_id for cell, record in lab.grid_runs(store.list()).items()} == {"CNN": newer}


def test_the_teachers_button_trains_each_cell_with_no_finished_run_and_none_in_the_queue(tmp_path):
    store = RunStore(tmp_path)
    mlp, cnn, gmp = (cell.spec for cell in lab.grid()[:3])
    finished = save_fake_run(store, mlp, 0.9, 0.9)
    (store.root / finished / "model.keras").write_bytes(b"x")
    store.write_status(store.create(cnn), "queued")
    stopped = save_fake_run(store, gmp, 0.1, 0.1)
    store.write_status(stopped, "stopped", started=1.0, ended=2.0)
    (store.root / stopped / "model.keras").write_bytes(b"x")
    untrained = lab.untrained(store.list())
    assert gmp in untrained and mlp not in untrained and cnn not in untrained  # a stopped run is trained again
    assert len(untrained) == len(lab.grid()) - 2


def test_a_model_still_reads_the_corner_if_it_keeps_most_of_its_accuracy():
    summary = [
        {"model": "CNN", "augment": 0, "corner": 0.1 / 0.95},
        {"model": "CNN-gmp-same", "augment": 0, "corner": 0.93 / 0.94},
        {"model": "CNN-gmp-same", "augment": 2, "corner": 0.1},  # augmented: not in the question
    ]
    outcomes = lab.outcome(summary)
    assert outcomes == {"CNN": False, "CNN-gmp-same": True}
    assert lab.outcome([{"model": "CNN", "augment": 0, "corner": 0.8 / 0.9}]) == {"CNN": True}  # 89% kept
    assert lab.score(frozenset({"CNN-gmp-same"}), outcomes) == 2
    assert lab.score(frozenset({"CNN"}), outcomes) == 0
    assert lab.score(frozenset(), outcomes) == 1


def test_the_table_has_a_row_per_measured_run_with_the_corner_as_a_share_of_the_middle(tmp_path):
    store = RunStore(tmp_path)
    cells = lab.grid()
    ids = [save_fake_run(store, cell.spec, 0.9, 0.9) for cell in cells[:2]]
    for run_id in ids:
        (store.root / run_id / "model.keras").write_bytes(b"x")
    runs = lab.grid_runs(store.list())
    measured = Measures(0.97, 0.3, 0.93, shifts.Stability([1, 2], [0.91, 0.8], []))
    rows = lab.table_rows(runs, {ids[1]: measured}, {ids[1]: corner_map(0.96, 0.24)}, lambda spec: spec.image_size)
    assert len(rows) == 1  # the MLP is not measured yet
    (row,) = rows
    assert (row["model"], row["augment"], row["centered"], row["anywhere"]) == ("CNN", 0, 0.97, 0.3)
    assert row["corner"] == 0.25 and row["consistency"] == 0.93 and row["stability"] == 0.91
    assert row["seconds"] == 3.0 and row["params"] == 1000 and row["multiply_adds"] == 28 and row["view"] == "window"
    assert lab.table_rows(runs, {ids[1]: measured}, {}) == []  # measured but not mapped yet: no row to crash on
    no_corner = ShiftMap([(0, 0)], [0.96])  # a map file edited by hand, without the corner
    assert lab.table_rows(runs, {ids[1]: measured}, {ids[1]: no_corner}) == []
    (blank,) = lab.table_rows(runs, {ids[1]: measured}, {ids[1]: corner_map(0.0, 0.0)})
    assert blank["corner"] == 0.0  # a model reading nothing in the middle keeps nothing


def test_each_session_has_one_guess_and_the_tally_counts_them():
    guesses = lab.Guesses(limit=3)
    guesses.record("a", ["CNN", "CNN-gmp-same"])
    guesses.record("b", ["CNN-gmp-same", "a model that is not in the lab"])
    guesses.record("a", ["CNN-gmp-same"])  # changed its mind: one answer still
    assert guesses.of("a") == frozenset({"CNN-gmp-same"}) and guesses.of("z") is None
    answered, tally = guesses.tally()
    assert answered == 2 and tally["CNN-gmp-same"] == 2 and tally["CNN"] == 0 and set(tally) == set(lab.MODELS)
    guesses.record("c", [])
    guesses.record("d", ["MLP"])  # over the limit: not kept
    assert guesses.tally()[0] == 3 and guesses.of("d") is None
    guesses.clear()
    assert guesses.tally()[0] == 0


def test_guesses_from_many_sessions_at_once_are_all_counted():
    guesses = lab.Guesses()
    threads = [threading.Thread(target=guesses.record, args=(f"s{i}", ["MLP"])) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert guesses.tally() == (50, {model: 50 if model == "MLP" else 0 for model in lab.MODELS})


def test_the_locked_in_guess_reads_as_a_sentence_in_the_lessons_order():
    assert "**CNN and CNN-gmp-same** will still read" in lab.guess_sentence(frozenset({"CNN-gmp-same", "CNN"}))
    assert "**MLP, CNN and CNN-gmp** will" in lab.guess_sentence(frozenset({"CNN-gmp", "MLP", "CNN"}))
    assert "**none** of the models" in lab.guess_sentence(frozenset())
    assert "**none**" in lab.guess_sentence(frozenset({"<b>forged</b>"}))  # only the grid's models are named


def test_a_blur_run_saved_before_reflection_padding_is_not_the_labs_blur_model(tmp_path):
    import json
    import zipfile

    store = RunStore(tmp_path)
    blur = next(cell for cell in lab.grid() if cell.model == "CNN-gmp-same-blur" and not cell.augment)

    def saved(edges: dict) -> str:
        run_id = save_fake_run(store, blur.spec, 0.9, 0.9)
        layer = {"class_name": "BlurPool2D", "config": {"padding": "same", **edges}}
        config = {"class_name": "Sequential", "config": {"layers": [layer, layer]}}
        with zipfile.ZipFile(store.root / run_id / "model.keras", "w") as archive:
            archive.writestr("config.json", json.dumps(config))
        return run_id

    old = saved({})  # zero padding, as it was trained: it loads that way, but it is not today's blur pooling
    assert lab.grid_runs(store.list()) == {}
    assert blur.spec in lab.untrained(store.list())
    new = saved({"edges": "reflect"})
    assert {cell.title: record.run_id for cell, record in lab.grid_runs(store.list()).items()} == {blur.title: new}
    assert old != new
    (store.root / new / "model.keras").write_bytes(b"not a zip")  # a damaged file is no answer either
    assert lab.grid_runs(store.list()) == {}


def test_the_table_keeps_to_seeds_measured_for_every_model():
    def row(model, seed):
        return {"model": model, "augment": 0, "seed": seed}

    rows = [row("MLP", 0), row("CNN", 0), row("MLP", 1), row("CNN", 2), row("MLP", 2)]
    assert [(r["model"], r["seed"]) for r in lab.comparable_rows(rows)] == [
        ("MLP", 0),
        ("CNN", 0),
        ("CNN", 2),
        ("MLP", 2),
    ]
    assert lab.comparable_rows([]) == []


def test_the_teacher_adds_seeds_up_to_the_labs_limit_and_a_stray_seed_counts_for_nothing(tmp_path):
    store = RunStore(tmp_path)
    mlp = lab.grid()[0].spec
    save_fake_run(store, RunSpec.from_dict({**mlp.to_dict(), "seed": 2**31 - 1}), 0.9, 0.9)  # a student's own seed
    assert lab.seeds(store.list()) == [0] and lab.next_seed(store.list()) == 1
    for seed in range(1, lab.LAB_SEEDS):
        save_fake_run(store, RunSpec.from_dict({**mlp.to_dict(), "seed": seed}), 0.9, 0.9)
    assert lab.seeds(store.list()) == list(range(lab.LAB_SEEDS)) and lab.next_seed(store.list()) is None
