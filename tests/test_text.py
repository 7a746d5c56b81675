"""User text is text: names that would deface the class's screens are shown literally, on every page."""

import csv
import io
import json
import re
import threading

import pytest

from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.show import display, text
from mnistviz.training import fit
from mnistviz.training.jobs import get_manager
from tests.conftest import open_page, save_fake_run
from tests.test_jobs import _blocking_execute
from tests.test_page_draw import answers, draw, seven

HOSTILE_NAMES = [
    "![x](http://127.0.0.1:9/p.png)",
    "[grades](http://127.0.0.1:9/grades)",
    ":red-background[HACKED] :skull: :material/home:",
    "$\\Huge X$",
    '<a href="http://127.0.0.1:9/">legend link</a>',
    '<span style="font-size:80px">BIG</span>',
    "**bold** _it_ `code` # heading",
    '=HYPERLINK("http://127.0.0.1:9")',
    "http://127.0.0.1:9/bare",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_markdown_escaping_leaves_no_markup_to_interpret(name):
    escaped = text.markdown(name)
    unescaped_special = [
        c for i, c in enumerate(escaped) if c in "[]()!*_`$<>#:" and (i == 0 or escaped[i - 1] != "\\") and c != ":"
    ]
    assert unescaped_special == []
    assert "://" not in escaped and ":red" not in escaped and ":skull:" not in escaped  # colons broken up
    assert re.sub(r"\\(.)", r"\1", escaped).replace(text.ZERO_WIDTH_SPACE, "") == name  # nothing else changed


def test_plotly_labels_show_tags_instead_of_obeying_them():
    assert text.plotly('<a href="x">y</a>') == '&lt;a href="x"&gt;y&lt;/a&gt;'


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x"])
def test_csv_cells_never_start_a_formula(cell):
    assert text.csv_cell(cell) == "'" + cell
    assert text.csv_cell("MLP centered") == "MLP centered" and text.csv_cell(0.5) == 0.5


def test_control_and_bidi_characters_are_stripped_when_a_name_is_saved():
    spoof = "MLP\u202e derettnec\u2066\x1b[2J\x07\u200b\nrun"
    assert RunSpec("mlp", "centered", name=spoof).name == "MLP derettnec [2J run"
    assert RunSpec.from_dict({"arch": "mlp", "data": "centered", "name": spoof}).name == "MLP derettnec [2J run"


@pytest.fixture
def hostile_runs(runs_dir):
    store = RunStore(runs_dir)
    ids = {}
    for name in HOSTILE_NAMES:
        run_id = save_fake_run(store, RunSpec("mlp", "centered", name=name), 0.9, 0.9)
        store.save_model(run_id, build_model("mlp", 28))
        ids[name] = run_id
    return store, ids


def test_every_page_shows_hostile_names_escaped(hostile_runs, synthetic_variants, monkeypatch):
    store, ids = hostile_runs
    for name, run_id in ids.items():
        train = open_page("pages/train.py", {"run": run_id})
        assert [h.value for h in train.subheader][-1] == f"{text.markdown(name)}: finished"

    drawn = draw(open_page("pages/draw.py"), seven())
    drawn.multiselect(key="draw-models").set_value(list(ids.values()))  # every run, not one per notebook cell
    lines = answers(drawn.run())
    for name in HOSTILE_NAMES:
        assert any(line.startswith(f"**{text.markdown(name)}** says") for line in lines)

    compare = open_page("pages/compare.py")
    curves = json.loads(next(c for c in compare.get("plotly_chart") if c.proto.id and "compare" in c.key).proto.spec)
    legend = {trace["name"] for trace in curves["data"]}
    assert legend and legend <= {text.plotly(display.run_label(record)) for record in store.list()}
    assert not any("<a " in name or "<span" in name for name in legend)

    release = threading.Event()
    monkeypatch.setattr(fit, "execute", _blocking_execute(release))
    manager = get_manager(store.root)
    jobs = [manager.submit(RunSpec("cnn", "offset", name=name)) for name in HOSTILE_NAMES[:3]]
    try:
        home = open_page("app.py")
        queue = [m.value for m in home.markdown if m.value.startswith("- **")]
        assert queue and all(any(text.markdown(job.spec.label) in line for line in queue) for job in jobs)
    finally:
        release.set()
        for job in jobs:
            manager.wait(job.run_id, 10)


def test_the_csv_export_neutralises_formulas(hostile_runs):
    store, ids = hostile_runs
    rows = list(csv.DictReader(io.StringIO(display.csv_export(display.compare_table(store.list())).decode())))
    assert '\'=HYPERLINK("http://127.0.0.1:9")' in {row["run"] for row in rows}
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
