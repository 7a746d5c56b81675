"""How runs and numbers are written for people."""

import numpy as np

from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunRecord, RunStore
from mnistviz.show import display
from tests.conftest import save_fake_run, shown


def test_a_run_label_names_the_run_when_it_was_made_and_an_unusual_status(tmp_path):
    store = RunStore(tmp_path)
    run_id = save_fake_run(store, RunSpec("cnn", "offset", name="Wide CNN"), 0.9, 0.9)
    label = display.run_label(store.load(run_id))
    assert label == f"Wide CNN · {run_id[4:6]}-{run_id[6:8]} {run_id[9:11]}:{run_id[11:13]} · {run_id[-6:]}"
    store.write_status(run_id, "stopped")
    assert display.run_label(store.load(run_id)).endswith(" (stopped)")


def test_durations_read_as_seconds_minutes_or_hours():
    assert [display.format_seconds(s) for s in (None, 4.4, 59.6, 61, 3600 + 125)] == [
        "-",
        "4 s",
        "1 min 00 s",
        "1 min 01 s",
        "1 h 02 min",
    ]


def test_the_compare_table_has_one_row_per_run_with_its_accuracies(tmp_path):
    store = RunStore(tmp_path)
    for arch in ("mlp", "cnn"):
        save_fake_run(store, RunSpec(arch, "centered"), 0.95, 0.93)
    table = display.compare_table(store.list())
    assert len(table) == 2 and set(table["architecture"]) == {"MLP", "CNN"}
    assert table["test accuracy"].tolist() == [0.93, 0.93] and table["best val accuracy"].tolist() == [0.95, 0.95]


def test_the_compare_table_names_a_lab_variant_in_words_and_an_imported_run(tmp_path):
    store = RunStore(tmp_path)
    run_id = save_fake_run(store, RunSpec("cnn", "centered", head="gmp", padding="same"), 0.95, 0.93)
    store.write_status(run_id, "finished", imported=1.0)
    (row,) = display.compare_table(store.list()).to_dict("records")
    assert row["architecture"] == "CNN with global max pooling and same padding (CNN-gmp-same)"
    assert row["status"] == "finished, imported"
    assert display.run_label(store.load(run_id)).endswith(" (imported)")


def test_the_table_on_screen_says_dash_or_measuring_never_none_and_has_one_percent_format(tmp_path):
    """Seen: "None" for measures not yet computed, and "97.9%" beside "88.88%"."""
    store = RunStore(tmp_path)
    ids = [save_fake_run(store, RunSpec(arch, "centered"), 0.979, 0.8888) for arch in ("mlp", "cnn")]
    table = display.table_on_screen(display.compare_table(store.list()), measuring={ids[1]})
    by_id = table.set_index("run id")
    assert by_id.loc[ids[0], "test accuracy"].strip() == "88.88%"
    assert by_id.loc[ids[0], "best val accuracy"].strip() == "97.90%"
    assert by_id.loc[ids[0], "consistency"] == "-" and by_id.loc[ids[1], "consistency"] == "measuring"
    assert "None" not in table.to_string() and "nan" not in table.to_string()
    shares = [f"{value * 100:6.2f}%" for value in (0.05, 0.5, 0.979, 1.0)]
    assert sorted(shares) == shares  # padded to one width: the column sorts as the numbers do


def test_a_digit_strip_sets_enlarged_digits_side_by_side_with_grey_gaps():
    digits = np.stack([np.full((28, 28), value, np.uint8) for value in (10, 200)])
    strip = display.digit_strip(digits, scale=2, gap=3)
    assert strip.shape == (56, 56 + 3 + 56)
    assert strip[0, 0] == 10 and strip[0, 57] == 90 and strip[0, -1] == 200


def test_each_run_keeps_its_style_in_any_order_and_when_runs_are_made_after_it(tmp_path):
    from mnistviz.show import plots

    def runs(count):  # one a minute: ids begin with the time a run was made
        return [
            RunRecord(f"20261201-10{minute:02d}00-mlp-centered-abcdef", tmp_path, "finished") for minute in range(count)
        ]

    older = display.run_styles(runs(3))
    assert [style.color for style in older.values()] == plots.PALETTE[:3]
    assert older == display.run_styles(list(reversed(runs(3))))  # not the order a page lists them in
    everything = display.run_styles(runs(10))
    assert {run_id: everything[run_id] for run_id in older} == older  # another list: the same run, the same style
    assert len({(style.color, style.dash) for style in everything.values()}) == 10  # ten runs, ten looks
    assert "#F0E442" not in plots.PALETTE  # Okabe-Ito's yellow is unreadable on white


def test_the_csv_holds_rounded_numbers():
    import pandas as pd

    from mnistviz.show import display

    table = pd.DataFrame({"run": ["a"], "test accuracy": [0.987654321], "seconds per epoch": [12.3456789]})
    assert display.csv_export(table).decode().splitlines()[1] == "a,0.9877,12.3"


def test_probability_bars_highlight_the_predicted_digit_and_label_the_likely_ones():
    import re

    from mnistviz.show import display, plots

    probabilities = [0.01] * 10
    probabilities[7] = 0.91
    html = display.probability_bars(probabilities, digit=7)
    bars = re.findall(r'title="digit (\d): ([\d.]+)%" style="[^"]*height:([\d.]+)rem;background:(#\w+)', html)
    assert [int(digit) for digit, *_ in bars] == list(range(10))
    assert {color for digit, _, _, color in bars if digit != "7"} == {plots.BAR_COLOR}
    assert bars[7][3] == plots.VAL_COLOR and float(bars[7][2]) > 10 * float(bars[0][2])  # tall, and in its colour
    assert ">91%<" in html and ">1%<" not in html  # the unlikely ones are not labelled


def test_a_run_says_where_it_trained_and_a_forged_host_stays_text(tmp_path):
    record = RunRecord(run_id="r", folder=tmp_path, status="finished", executor="ray", host="gpu-box")
    assert shown(display.trained_where(record)) == "Trained on the Ray cluster (gpu-box)."
    record.executor, record.host = "local", None
    assert display.trained_where(record) == "Trained in a process of its own on the dashboard's machine."
    record.executor, record.host = "ray", "**big** [link](http://x)"
    assert "**" not in display.trained_where(record) and "](" not in display.trained_where(record)


def test_a_toast_says_what_a_request_queued_and_what_it_joined():
    assert display.queued_sentence(4, 0) == "Queued 4 runs."
    assert display.queued_sentence(1, 0) == "Queued 1 run."
    assert display.queued_sentence(0, 4) == "4 were already asked for or trained: you see them too."
    assert display.queued_sentence(2, 1) == "Queued 2 runs; 1 was already asked for or trained: you see it too."


def test_the_deviations_from_the_notebook_are_one_table_row_each():
    from mnistviz.learning import notebook

    table = display.deviations_table(notebook.DEVIATIONS).splitlines()
    assert len(table) == 2 + len(notebook.DEVIATIONS) and table[0] == "| what | the notebook | here |"
    assert all(line.count(" | ") == 2 for line in table[2:])


def test_probability_bars_draw_even_answers_that_are_not_numbers():
    bars = display.probability_bars([float("nan"), float("inf"), -1.0, 2.0, 0, 0, 0, 0, 0, 0], 3)
    assert "nan" not in bars and "inf" not in bars and bars.count("digit ") == 10
