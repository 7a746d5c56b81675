"""The Shift Lab's grid, its question and the class's answers, without Streamlit or TensorFlow."""

import threading

from mnistviz import lab, shifts
from mnistviz.measures import Measures
from mnistviz.shifts import ShiftMap
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore
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
        "CNN-gmp",
        "CNN-gmp-same",
        "CNN-gmp-same-blur",
        "MLP, shifted ±2 px",
        "CNN, shifted ±2 px",
        "CNN-gmp-same, shifted ±2 px",
        "CNN-gmp-same-blur, shifted ±2 px",
    ]
    assert all(cell.spec.data == "centered" and cell.spec.epochs == 2 and cell.spec.batch_size == 128 for cell in cells)
    assert [cell.spec.model_name for cell in cells[:5]] == list(lab.MODELS)
    assert cells[4].spec.view == "field" and cells[1].spec.view == "window"
    assert len({cell.spec for cell in cells}) == len(cells)


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
    assert lab.keeps_reading(corner_map(0.9, 0.8))  # 89% of 0.9
    assert not lab.keeps_reading(corner_map(0.9, 0.7))
    outcomes = lab.outcome({"CNN": corner_map(0.95, 0.1), "CNN-gmp-same": corner_map(0.94, 0.93)})
    assert outcomes == {"CNN": False, "CNN-gmp-same": True}
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
    measured = Measures(0.97, 0.3, shifts.Consistency([1, 2], [0.91, 0.8], []))
    rows = lab.table_rows(runs, {ids[1]: measured}, {ids[1]: corner_map(0.96, 0.24)})
    assert len(rows) == 1  # the MLP is not measured yet
    (row,) = rows
    assert (row["model"], row["augment"], row["centered"], row["anywhere"]) == ("CNN", 0, 0.97, 0.3)
    assert row["corner"] == 0.25 and row["consistency"] == 0.91 and row["seconds"] == 3.0 and row["params"] == 1000
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
