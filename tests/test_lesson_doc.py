"""docs/lesson.md, the teacher's 45-minute lesson, checked against what the dashboard shows.

Every percentage the lesson quotes must be, at the precision it is quoted, a value of the sources the pages
use: the notebook's reference accuracies (`notebook.VAL_ACCURACY`, on Home) or the Shift Lab's measured results
(`docs/shift-lab-results.json`, what the Lab shows for them, docs/shift-lab.md), of a model the same sentence or
table row names; each result has its budget (epochs, digits, seeds) before it in its section. A sentence that
says two models differ in one thing names two models that do (`lab.COMPARISONS`, or a model and its shifted
twin). Every page the lesson's timeline names is a page of the sidebar, every `mnistviz` command it quotes parses,
and the rest of its numbers (epochs, parameters, sizes, pixels, minutes) are the code's or the docs' own.
"""

import json
import re
import shlex
from itertools import pairwise
from pathlib import Path

import pytest

from mnistviz import cli
from mnistviz.analysis import drawing, lab, shifts
from mnistviz.errors import MnistvizError
from mnistviz.learning import data, field, notebook, presets
from mnistviz.learning.spec import FULL_TRAIN_SIZE, RunSpec

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TEXT = (DOCS / "lesson.md").read_text(encoding="utf-8")
FLAT = " ".join(TEXT.split())  # phrases as a reader reads them, whatever the line breaks
ROWS = json.loads((DOCS / "shift-lab-results.json").read_text())
SEEDS = sorted({row["seed"] for row in ROWS})
BENCHMARKS = (DOCS / "benchmarks.md").read_text()
SHIFT_LAB = (DOCS / "shift-lab.md").read_text()

MAX_WORDS = 3_200  # a few printed pages: read the evening before, glanced at during the lesson
MAX_SECTION_WORDS = 650  # one timed part of the lesson
LESSON_MINUTES = 45

MODEL = re.compile(r"(?<![\w-])(CNN-gmp-same-blur|CNN-gmp-same|CNN-gmp|CNN-field|CNN|MLP)(?![\w-])")
PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
SENTENCE_END = re.compile(r'(?:(?<=[.!?])|(?<=[.!?]\*\*)|(?<=[.!?]")|(?<=[.!?]"\*\*))\s+(?=[A-Z"*(`])')
TIMED = re.compile(r"^## (\d+)-(\d+) min · (.+?): ", re.M)
ONE_VARIABLE = ("only difference", "only change", "differ only", "differs only", "nothing else", "one change")


# --- the lesson, cut into what a reader meets: sentences of prose, rows of tables, commands ---------------------


def sections() -> list[tuple[str, str]]:
    """(heading, body) for every `## ` section, in order."""
    parts = re.split(r"^## (.+)$", TEXT, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def tables(body: str) -> list[list[dict]]:
    """Each Markdown table of `body` as its rows, each row {column: cell}."""
    found, lines = [], [line.strip() for line in body.splitlines()]
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and set(lines[i + 1]) <= set("|- "):
            header = [cell.strip() for cell in lines[i].strip("|").split("|")]
            i += 2
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(dict(zip(header, (cell.strip() for cell in lines[i].strip("|").split("|")), strict=True)))
                i += 1
            found.append(rows)
        else:
            i += 1
    return found


def units() -> list[tuple[str, str, str]]:
    """(section heading, the section's text up to and including this unit, unit): a table row or a prose sentence."""
    out = []
    for heading, body in sections():
        seen = ""
        blocks = re.split(r"\n\s*\n", body)
        for block in blocks:
            if block.lstrip().startswith("|"):
                for line in block.strip().splitlines()[2:]:
                    seen += " " + line
                    out.append((heading, seen, line))
                continue
            prose = " ".join(line.strip() for line in block.splitlines() if line.strip())
            for item in re.split(r"(?:^|\s)(?=- |\d+\. )", prose):  # list items
                for sentence in SENTENCE_END.split(item):
                    if sentence.strip():
                        seen += " " + sentence
                        out.append((heading, seen, sentence))
    return out


def quoted_commands() -> list[str]:
    """Every `mnistviz ...` command the lesson quotes, in code spans or code blocks."""
    spans = re.findall(r"`([^`]+)`", FLAT)
    blocks = [line.strip() for line in TEXT.splitlines() if line.startswith("       ")]
    return [text for text in spans + blocks if text.startswith("mnistviz ")]


# --- the sources ----------------------------------------------------------------------------------------------


def lab_values(seeds: list[int]) -> dict[tuple[str, int], dict[str, set[float]]]:
    """Per Lab model (and augmentation), what the Lab shows for it over `seeds`: each measure's mean ("mean"),
    and its lowest and highest seed ("range")."""
    values: dict[tuple[str, int], dict[str, set[float]]] = {}
    for row in lab.summarize([row for row in ROWS if row["seed"] in seeds]):
        found = values.setdefault((row["model"], row["augment"]), {"mean": set(), "range": set()})
        for name in lab.MEASURED:
            found["mean"].add(row[name])
            found["range"].update(row["range"][name])
    return values


LAB = lab_values(SEEDS)  # what the Lab shows over every measured seed: docs/shift-lab.md's table
ONE_SEED = {seed: lab_values([seed]) for seed in SEEDS}  # what a class whose grid has that seed only sees
GENERAL = {lab.KEEPS}  # "still reads": the share of its accuracy in the middle a model keeps in the corner
DATA_WORDS = {"centered": ("centered",), "offset": ("anywhere", "offset")}
RANGE = re.compile(r"\((\d+(?:\.\d+)?)% to (\d+(?:\.\d+)?)%\)")


def matches(quoted: str, value: float) -> bool:
    """Whether `quoted` (a percentage as the lesson writes it, "86" or "98.26") is `value` rounded as quoted."""
    decimals = len(quoted.partition(".")[2])
    return f"{100 * value:.{decimals}f}" == quoted


def quotes(unit: str) -> list[tuple[str, dict[str, set[float]]]]:
    """Each percentage of a unit with the values it may be, by source.

    A percentage belongs to the model named last before it in the unit (a table row's model, "CNN-gmp keeps
    86%"); before any model it may only be a general value (85%: "still reads"). It may be that model's mean
    over the Lab's seeds, one seed's value where the unit names that seed, the lowest or highest seed inside
    "(a% to b%)", or the notebook's accuracy of that architecture on the data the unit names.
    """
    ranged = {match.start(group) for match in RANGE.finditer(unit) for group in (1, 2)}
    seeds = [int(seed) for seed in re.findall(r"\bseed (\d+)", unit) if int(seed) in ONE_SEED]
    data = [name for name, words in DATA_WORDS.items() if any(word in unit for word in words)] or list(DATA_WORDS)
    out = []
    for match in PERCENT.finditer(unit):
        before = MODEL.findall(unit[: match.start()])
        sources: dict[str, set[float]] = {"general": set(GENERAL) if not before else set()}
        if before:
            model = before[-1]
            twins = (0, lab.AUGMENT) if "shifted" in unit else (0,)
            kind = "range" if match.start(1) in ranged else "mean"
            sources["lab"] = {v for augment in twins for v in LAB.get((model, augment), {}).get(kind, ())}
            sources["lab"] |= {
                v
                for seed in seeds
                for augment in twins
                for v in ONE_SEED[seed].get((model, augment), {}).get("mean", ())
            }
            sources["notebook"] = {
                accuracy
                for (arch, variant), accuracy in notebook.VAL_ACCURACY.items()
                if arch.upper() == model and variant in data
            }
        out.append((match.group(1), sources))
    return out


def parameters() -> dict[tuple[str, str], int]:
    from mnistviz.learning import models  # Keras: only for the test that needs it

    return {cell: models.parameter_count(RunSpec(*cell)) for cell in notebook.cells()}


# --- the tests ------------------------------------------------------------------------------------------------


def test_every_percentage_is_a_value_the_dashboard_shows_for_the_model_it_is_said_of():
    wrong = []
    for _, _, unit in units():
        if "ink" in unit:  # the share of a digit's ink in the window: test_the_ink_left_in_the_window_is_measured
            continue
        for quoted, sources in quotes(unit):
            if not any(matches(quoted, value) for values in sources.values() for value in values):
                wrong.append(f"{quoted}% in: {unit.strip()}")
    assert not wrong, "percentages no source gives for the model they are said of:\n" + "\n".join(wrong)


def test_every_result_has_its_budget_before_it_in_its_section():
    lab_budget = f"{lab.SETTINGS['epochs']} epochs on {lab.SETTINGS['train_size']:,}"
    notebook_budget = f"{RunSpec.default('epochs')} epochs"
    missing = []
    for heading, seen, unit in units():
        if "ink" in unit:
            continue
        for quoted, sources in quotes(unit):
            kinds = {kind for kind, values in sources.items() if any(matches(quoted, v) for v in values)}
            if "general" in kinds:
                continue
            budgets = {"lab": lab_budget in seen and "seed" in seen, "notebook": notebook_budget in seen}
            if not any(budgets[kind] for kind in kinds):
                missing.append(f"{heading}: {quoted}% ({', '.join(sorted(kinds))}) in: {unit.strip()}")
    assert not missing, "results quoted before their budget (epochs, digits, seeds):\n" + "\n".join(missing)


def test_the_notebook_table_is_the_notebooks_accuracies_the_class_presets_epochs_and_the_parameters():
    (table,) = [rows for _, body in sections() for rows in tables(body) if "parameters" in rows[0]]
    counts = parameters()
    cells = set()
    for row in table:
        cell = (row["model"].lower(), row["trained on"])
        cells.add(cell)
        assert row["the notebook, 20 epochs"] == f"{notebook.VAL_ACCURACY[cell]:.2%}", row
        assert row["the class preset"] == f"{presets.CLASS_SETTINGS[cell]['epochs']} epochs", row
        assert row["parameters"] == f"{counts[cell]:,}", row
    assert cells == set(notebook.cells())
    assert RunSpec.default("epochs") == 20


def test_the_lab_table_is_what_the_lab_shows_over_the_measured_seeds():
    (table,) = [rows for _, body in sections() for rows in tables(body) if "corner kept" in rows[0]]
    summary = {row["model"]: row for row in lab.summarize(ROWS) if not row["augment"]}
    assert [row["model"] for row in table] == list(lab.MODELS)
    for row in table:
        measured = summary[row["model"]]
        low, high = measured["range"]["corner"]
        assert row["sees"] == measured["view"], row
        assert row["corner kept"] == f"{measured['corner']:.0%} ({low:.0%} to {high:.0%})", row
        assert row["anywhere"] == f"{measured['anywhere']:.1%}", row
        assert row["consistency"] == f"{measured['consistency']:.1%}", row
    assert lab.budget(len(SEEDS)).startswith("after 2 epochs on 16,000 centered digits")
    assert f"the mean of {len(SEEDS)} seeds" in FLAT


def test_the_ink_left_in_the_window_is_measured():
    try:
        digits = data.load_variant("centered").x_test
    except MnistvizError as error:
        pytest.skip(f"no MNIST here: {error}")
    ink = field.ink_in_window(digits, *lab.CORNER)
    quoted = [PERCENT.findall(unit) for _, _, unit in units() if "ink" in unit and PERCENT.search(unit)]
    assert quoted, "the lesson says how much of a digit is left in the window at the corner"
    assert all(matches(value, ink) for values in quoted for value in values), (quoted, ink)


def test_a_sentence_naming_one_difference_names_two_models_that_differ_in_just_that():
    """The first two models such a sentence names are a pair of `lab.COMPARISONS` and it names their variable, or
    they are a model and the same model trained on shifted digits and it says so ("training digits")."""
    wrong = []
    for _, _, unit in units():
        if not any(phrase in unit for phrase in ONE_VARIABLE):
            continue
        named = list(dict.fromkeys(MODEL.findall(unit)))[:2]
        compared = [variable for variable, pair in lab.COMPARISONS.items() if set(pair) == set(named)]
        twins = named[:1] and named[0] in lab.AUGMENTED and "shifted" in unit and "training digits" in unit
        if not (any(variable in unit for variable in compared) or twins):
            wrong.append(unit.strip())
    assert not wrong, "one-variable claims that do not name a compared pair and its variable:\n" + "\n".join(wrong)


def test_the_timeline_fills_the_lesson_with_the_dashboards_pages():
    from mnistviz.ui.setup import PAGES

    titles = [title for _, title, _ in PAGES]
    timed = [(int(start), int(end), page) for start, end, page in TIMED.findall(TEXT)]
    assert timed and timed[0][0] == 0 and timed[-1][1] == LESSON_MINUTES
    assert all(end == start for (_, end, _), (start, _, _) in pairwise(timed)), timed
    assert all(start < end for start, end, _ in timed)
    assert {page for *_, page in timed} <= set(titles), "a page the sidebar does not have"
    assert set(titles) <= {page for *_, page in timed}, "every page has its part"
    (glance,) = [rows for _, body in sections() for rows in tables(body) if "minutes" in rows[0]]
    assert [(row["minutes"], row["page"]) for row in glance] == [(f"{s}-{e}", page) for s, e, page in timed]


@pytest.mark.parametrize("command", quoted_commands())
def test_every_quoted_command_parses(command):
    """Strict: a subcommand the CLI does not know yet fails here (export and import came with issue 24)."""
    arguments = shlex.split(command)[1:]
    try:
        cli.build_parser().parse_args(arguments)
    except SystemExit as error:
        pytest.fail(f"`{command}` does not parse (exit {error.code})")


def test_the_commands_cover_the_preparation():
    commands = quoted_commands()
    subcommands = {shlex.split(command)[1] for command in commands}
    assert {"train-all", "teacher-link", "export", "import"} <= subcommands
    assert "streamlit run app.py --server.address 0.0.0.0" in FLAT and (ROOT / "app.py").is_file()
    assert "Teacher link: " in TEXT and "?join=1" in TEXT and "?present=1" in TEXT


def test_the_other_numbers_are_the_codes_and_the_docs():
    counts = parameters()
    throughput = dict(
        re.findall(r"\| training throughput, (MLP|CNN) centered \(samples/s\) \| [\d,]+ \| ([\d,]+) \|", BENCHMARKS)
    )
    thousands = {f"{count:,}" for count in counts.values()} | {
        f"{lab.SETTINGS['train_size']:,}",
        f"{FULL_TRAIN_SIZE:,}",
    }
    thousands |= set(throughput.values())
    assert len(throughput) == 2
    for number in re.findall(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d.])", TEXT):
        assert number in thousands, number

    epochs = {lab.SETTINGS["epochs"], RunSpec.default("epochs")} | {
        s["epochs"] for s in presets.CLASS_SETTINGS.values()
    }
    for number in re.findall(r"(\d+) epochs?\b", FLAT):
        assert int(number) in epochs, f"{number} epochs"
    for number in re.findall(rf"(\d+) epochs on {lab.SETTINGS['train_size']:,}", FLAT):
        assert int(number) == lab.SETTINGS["epochs"], f"the Lab's grid: {number} epochs"
    for number in re.findall(rf"(\d+) epochs on all {FULL_TRAIN_SIZE:,}", FLAT):
        assert int(number) == RunSpec.default("epochs"), f"the notebook: {number} epochs"
    for number in re.findall(r"(\d+) seeds\b", FLAT):
        assert int(number) == len(SEEDS), f"{number} seeds"
    for number in re.findall(r"\bseed (\d+)", FLAT):
        assert int(number) < lab.LAB_SEEDS and (int(number) in SEEDS or int(number) == lab.next_seed([])), number
    for number in re.findall(r"(\d+) missing grid runs", FLAT):
        assert int(number) == len(lab.grid())
    assert re.search(r"\bten runs\b", FLAT) is None or len(lab.grid()) == 10

    sizes = {(field.DIGIT,) * 2, (field.FIELD,) * 2, (drawing.BOX,) * 2, (2, 2)}  # and "the 2x2 matrix", a title
    for size in re.findall(r"\b(\d+)x(\d+)\b", TEXT):
        assert tuple(map(int, size)) in sizes, size
    ratio = round(counts[("mlp", "offset")] / counts[("cnn", "offset")])
    for number in re.findall(r"\b(\d+)x fewer", FLAT):
        assert int(number) == ratio  # Home's sentence: "with 11x fewer weights for the CNN"
    for number in re.findall(r"(\d+) pixels", FLAT):
        assert int(number) in {*lab.CORNER, lab.AUGMENT, shifts.CONSISTENCY_RANGE, field.MAX_SHIFT}, number
    for number in re.findall(r"±(\d+) px", TEXT):
        assert int(number) == lab.AUGMENT


def test_the_minutes_are_the_measured_ones(monkeypatch):
    from mnistviz import config

    monkeypatch.delenv("MNISTVIZ_STUDENT_MINUTES", raising=False)
    (preset_seconds,) = re.findall(r"class preset: all four models, wall time \(s\) \| [^|]+\| ([\d,]+) \|", BENCHMARKS)
    grid_minutes = [float(m) for m in re.findall(r"(\d+\.\d) min \(seed \d\)", SHIFT_LAB)]
    assert len(grid_minutes) == len(SEEDS)
    preset = int(preset_seconds.replace(",", ""))
    assert f"about {round(preset / 60)} minutes ({preset} s)" in FLAT
    assert f"about {round(min(grid_minutes))} minutes a seed" in FLAT
    assert f"({round(min(grid_minutes))} to {round(max(grid_minutes))} minutes" in FLAT
    quoted = {int(n) for n in re.findall(r"(\d+) minutes", FLAT)}
    assert quoted <= {round(preset / 60), round(min(grid_minutes)), round(max(grid_minutes)), config.student_minutes()}
    assert f"more than {config.student_minutes():g} minutes" in FLAT
    (characters,) = re.findall(r"(\d+) or more random characters", FLAT)
    assert f"{characters} or more random characters" in " ".join((ROOT / "README.md").read_text().split())


def test_it_stays_a_teachers_length():
    words = len(TEXT.split())
    assert words <= MAX_WORDS, f"{words} words"
    for heading, body in sections():
        if TIMED.match(f"## {heading}"):
            assert len(body.split()) <= MAX_SECTION_WORDS, heading


def test_it_renders_as_plain_markdown_on_home():
    """Home shows it with st.markdown: `$` would start LaTeX, `~` strike text out, `:name[` a Streamlit directive."""
    assert "$" not in TEXT and "~" not in TEXT and "<" not in TEXT
    assert not re.search(r":[a-z-]+\[", TEXT) and not re.search(r":[a-z_]+:(?!\d)", TEXT)
    assert "](" not in TEXT  # no links: relative ones would not open from Home
