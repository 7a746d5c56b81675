"""A run folder is untrusted: every file is checked by type and range, and a bad one damages only its run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnistviz.cli import main
from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import runfiles
from mnistviz.runs.store import RunStore
from tests.conftest import open_page, save_fake_run
from tests.server import REPO

# valid JSON of the wrong type or range, per file: each makes its run damaged, naming the file
HOSTILE = [
    ("status.json", []),
    ("status.json", None),
    ("status.json", "finished"),
    ("status.json", {"status": "victorious"}),
    ("status.json", {"status": "finished", "created": "yesterday"}),
    ("status.json", {"status": "failed", "error": ["boom"]}),
    ("spec.json", []),
    ("spec.json", {"arch": "mlp"}),
    ("spec.json", {"arch": "mlp", "data": "centered", "epochs": "5"}),
    ("spec.json", {"arch": "mlp", "data": "centered", "name": {"x": 1}}),
    ("history.json", []),
    ("history.json", {"epochs": 5}),
    ("history.json", {"epochs": [{"epoch": 1, "loss": "0.5"}]}),
    ("history.json", {"epochs": ["epoch one"]}),
    ("history.json", {"epochs": [{"epoch": 2, "loss": 0.5}]}),
    ("history.json", {"epochs": [{"epoch": 1, "val_accuracy": 7.0}]}),
    ("evaluation.json", {"test_accuracy": "0.9"}),
    ("evaluation.json", {"test_accuracy": 1.5}),
    ("evaluation.json", {"params": -3}),
    ("evaluation.json", [0.9]),
    ("status.json", '{"status": "finished", "created": 1' + "0" * 400 + "}"),  # overflows a float
    ("evaluation.json", '{"test_accuracy": 1' + "0" * 400 + "}"),
    ("spec.json", '{"arch": "mlp", "data": "centered", "learning_rate": 1' + "0" * 400 + "}"),
    ("history.json", "[" * 100_000),  # nested deeper than Python recurses
    ("status.json", "{" * 50_000),
]


def write(path, value) -> None:
    path.write_text(value if isinstance(value, str) else json.dumps(value))


@pytest.fixture
def good_and_bad(runs_dir):
    store = RunStore(runs_dir)
    good = save_fake_run(store, RunSpec("mlp", "centered"), 0.95, 0.94)
    bad = save_fake_run(store, RunSpec("cnn", "centered"), 0.9, 0.9)
    return store, good, bad


@pytest.mark.parametrize(("name", "value"), HOSTILE, ids=[f"{n}={json.dumps(v)[:40]}" for n, v in HOSTILE])
def test_a_file_of_the_wrong_type_damages_only_its_run(good_and_bad, name, value, capsys):
    store, good, bad = good_and_bad
    write(store.folder(bad) / name, value)
    records = {record.run_id: record for record in store.list()}
    assert records[good].status == "finished"
    assert records[bad].status == "damaged" and name in records[bad].error
    assert main(["runs", "--json"]) == 0
    listed = {row["run_id"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed[bad]["status"] == "damaged" and listed[good]["test_accuracy"] == 0.94


@pytest.mark.parametrize("pid", ["abc", 1e400, 10**23, -4, True, None, 1])
def test_a_running_run_without_its_live_process_is_interrupted_whatever_its_pid(runs_dir, pid):
    store = RunStore(runs_dir)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    status = json.loads((store.folder(run_id) / "status.json").read_text())
    status.update(status="running", pid=pid)
    (store.folder(run_id) / "status.json").write_text(json.dumps(status))
    assert store.load(run_id).status == "interrupted"  # pid 1 lives, but it is not the process that wrote this


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.full(5000, 12, np.uint8), "outside 0..9"),
        (np.zeros((50, 100), np.uint8), "shape"),
        (np.zeros(5000, np.float32), "float32"),
        (np.zeros(4000, np.uint8), "4000 predictions for 5000"),
    ],
)
def test_bad_test_predictions_damage_the_run_and_train_says_so(good_and_bad, array, reason, synthetic_variants):
    store, good, bad = good_and_bad
    np.save(store.folder(bad) / "test_predictions.npy", array)
    record = store.load(bad)
    assert record.status == "damaged" and "test_predictions.npy" in record.error and reason in record.error
    at = open_page("pages/train.py", {"run": bad})
    assert any("damaged" in error.value for error in at.error)


def test_every_page_and_command_lists_the_others_beside_every_kind_of_damage(runs_dir, capsys):
    store = RunStore(runs_dir)
    good = save_fake_run(store, RunSpec("mlp", "centered"), 0.95, 0.94)
    for name, value in HOSTILE:
        run_id = save_fake_run(store, RunSpec("cnn", "offset"), 0.9, 0.9)
        write(store.folder(run_id) / name, value)
    for page in ("app.py", "pages/compare.py", "pages/draw.py", "pages/train.py"):
        open_page(page)  # no exception on any page
    compare = open_page("pages/compare.py")
    assert any(f"{len(HOSTILE)} run(s) cannot be shown" in warning.value for warning in compare.warning)
    assert main(["runs"]) == 0 and good in capsys.readouterr().out
    assert main(["robustness", store.list()[0].run_id, "--json"]) == 2  # a damaged run: one line, no traceback
    assert capsys.readouterr().err.startswith("error: ")


def test_the_teacher_deletes_a_damaged_run_from_compare(good_and_bad, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", "owl-42-tree")
    store, good, bad = good_and_bad
    write(store.folder(bad) / "spec.json", [])
    at = open_page("pages/compare.py")
    at.text_input(key="teacher_passcode_entry").input("owl-42-tree")
    at.run()
    doomed = at.multiselect(key="doomed")
    assert any(bad in option for option in doomed.options)  # a damaged run is offered too
    doomed.set_value([bad])
    at.checkbox(key="confirm-delete").check()
    at.run()
    next(button for button in at.button if button.label == "Delete").click()
    at.run()
    assert not at.exception
    assert [record.run_id for record in store.list()] == [good]


def test_delete_on_the_command_line_refuses_a_training_run_and_deletes_the_others(good_and_bad, capsys):
    store, good, bad = good_and_bad
    write(store.folder(bad) / "history.json", {"epochs": 5})
    training = store.create(RunSpec("mlp", "offset"))
    store.write_status(training, "running")  # this process: alive
    assert main(["delete", bad, training]) == 2
    assert "still trains" in capsys.readouterr().err and {r.run_id for r in store.list()} == {good, bad, training}
    assert main(["delete", bad, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [bad]
    assert {r.run_id for r in store.list()} == {good, training}
    assert main(["delete", "20260101-000000-mlp-centered-abcdef\n"]) == 2  # not a run id: nothing deleted


def test_a_run_id_with_a_trailing_newline_is_not_a_run_id(runs_dir):
    with pytest.raises(MnistvizError, match="is not a run id"):
        RunStore(runs_dir).folder("20260101-000000-mlp-centered-abcdef\n")


def test_the_checks_keep_what_is_good():
    assert runfiles.status({"status": "running", "pid": 42, "created": 1.5})["pid"] == 42
    rows = runfiles.epochs({"epochs": [{"epoch": 1, "loss": float("nan"), "val_accuracy": 0.5, "extra": 1}]})
    assert rows[0]["val_accuracy"] == 0.5 and np.isnan(rows[0]["loss"]) and "extra" not in rows[0]  # a diverged loss
    assert runfiles.evaluation({"test_accuracy": 1, "params": 10})["test_accuracy"] == 1.0
    assert runfiles.predictions(np.arange(10, dtype=np.uint8), 10).tolist() == list(range(10))


def _model_file(path, config_text: str):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config_text)
    return path


@pytest.mark.parametrize(
    "config_text",
    [
        "[" * 100_000,  # nested past Python's recursion limit
        '{"config": []}',
        '{"config": {"layers": [{"class_name": "BlurPool2D", "config": []}]}}',
        '{"config": {"layers": "many"}}',
        "not json",
        '{"config": {"layers": [{"class_name": "BlurPool2D", "config": {"padding": "same"}}]}}',  # before reflection
    ],
)
def test_a_blur_model_file_that_is_odd_or_old_is_not_todays_blur_and_never_crashes(tmp_path, config_text):
    assert runfiles.blur_reflects(_model_file(tmp_path / "model.keras", config_text)) is False


def test_todays_blur_model_file_is_known_by_its_reflecting_edges(tmp_path):
    layer = '{"class_name": "BlurPool2D", "config": {"padding": "same", "edges": "reflect"}}'
    assert runfiles.blur_reflects(_model_file(tmp_path / "model.keras", f'{{"config": {{"layers": [{layer}]}}}}'))
    assert not runfiles.blur_reflects(tmp_path / "missing.keras")
    (tmp_path / "bad.keras").write_bytes(b"PK\x03\x04 not really")
    assert not runfiles.blur_reflects(tmp_path / "bad.keras")


def grow(path, size: int) -> None:
    """Make `path` a valid-looking file of `size` bytes: JSON text padded with spaces (sparse where it can be)."""
    head = path.read_bytes() if path.exists() else b"{}"
    with path.open("wb") as file:
        file.write(head)
        file.truncate(size)  # the rest reads as zero bytes: what matters is that nothing reads it


@pytest.mark.parametrize(
    "name", ["status.json", "spec.json", "evaluation.json", "history.json", "test_predictions.npy"]
)
def test_a_file_larger_than_its_kind_ever_is_damages_its_run_unread(good_and_bad, name):
    store, good, bad = good_and_bad
    grow(store.folder(bad) / name, runfiles.most_bytes(store.folder(bad) / name) + 1)
    records = {record.run_id: record for record in store.list()}
    assert records[good].status == "finished"
    assert records[bad].status == "damaged" and f"{name} is larger than such a file ever is" in records[bad].error


def test_a_300_mb_evaluation_file_is_damage_and_listing_the_runs_stays_small(good_and_bad):
    """The hostile class's attack: `mnistviz runs` read all of it (693 MB) and still called the run finished."""
    store, good, bad = good_and_bad
    grow(store.folder(bad) / "evaluation.json", 300 * 1024 * 1024)
    script = (  # VmHWM: this process's own peak (ru_maxrss would carry the forking pytest's over the exec)
        "import re, sys; from pathlib import Path; from mnistviz.cli import main; code = main(['runs', '--json']); "
        "peak = re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1); "
        "print(int(peak) // 1024, file=sys.stderr); sys.exit(code)"
    )
    env = {**os.environ, "MNISTVIZ_RUNS": str(store.root)}
    shown = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=REPO)
    assert shown.returncode == 0, shown.stderr
    listed = {row["run_id"]: row for row in json.loads(shown.stdout)}
    assert listed[bad]["status"] == "damaged" and "evaluation.json is larger" in listed[bad]["error"]
    assert listed[good]["test_accuracy"] == 0.94
    assert int(shown.stderr.strip().splitlines()[-1]) < 300  # MB of peak RSS


def test_a_queued_run_whose_dashboard_stopped_is_listed_as_queued(runs_dir, capsys):
    """After a restart, the dashboard queues it again when it starts: until then it waits, it was not interrupted."""
    store = RunStore(runs_dir)
    run_id = store.create(RunSpec("mlp", "centered"))
    status = json.loads((store.folder(run_id) / "status.json").read_text())
    write(store.folder(run_id) / "status.json", {**status, "status": "queued", "pid": 4_000_000})  # no such process
    assert store.load(run_id).abandoned_queue
    assert main(["runs", "--json"]) == 0
    assert [row["status"] for row in json.loads(capsys.readouterr().out)] == ["queued"]
