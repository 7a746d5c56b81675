"""Bundles: runs trained at home, brought to class (`mnistviz export` / `mnistviz import`), and hostile bundles."""

import io
import json
import shutil
import struct
import zipfile

import pytest

from mnistviz.cli import main
from mnistviz.runs import bundle
from mnistviz.runs.store import RunStore

SMALL = ["--epochs", "1", "--train-size", "600", "--batch-size", "60", "--json"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two finished runs (an MLP and a CNN, on the synthetic digits), one with its shift map saved."""
    from mnistviz.analysis import shift_maps
    from mnistviz.learning import data
    from mnistviz.training import jobs
    from tests.conftest import synthetic_mnist
    from tests.threaded import ThreadExecutor

    folder = tmp_path_factory.mktemp("home") / "runs"
    with pytest.MonkeyPatch.context() as patch:
        variants = {name: data.make_variant(synthetic_mnist(), name) for name in data.VARIANTS}
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        patch.setattr(jobs, "LocalProcesses", ThreadExecutor)
        patch.setenv("MNISTVIZ_RUNS", str(folder))
        for arch in ("mlp", "cnn"):
            assert main(["train", "--arch", arch, "--data", "centered", *SMALL]) == 0
        store = RunStore(folder)
        run_ids = [record.run_id for record in store.list()]
        shift_maps.compute_shift_map(store, run_ids[0], step=6, samples=50)
    return folder, run_ids


@pytest.fixture
def home(trained, runs_dir):
    """A copy of the trained runs in this test's runs folder."""
    folder, run_ids = trained
    shutil.copytree(folder, runs_dir)
    return RunStore(runs_dir), run_ids


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_delete_import_brings_the_runs_back_as_they_were(home, tmp_path, capsys):
    from mnistviz.analysis import shift_maps

    store, run_ids = home
    before = {record.run_id: record.summary() for record in store.list()}
    lesson = tmp_path / "lesson.zip"
    code, out, _ = cli(capsys, "export", *run_ids, "-o", str(lesson), "--json")
    assert code == 0 and json.loads(out)["runs"] == run_ids
    assert cli(capsys, "delete", *run_ids)[0] == 0
    assert store.list() == []

    code, out, err = cli(capsys, "import", str(lesson), "--json")
    assert code == 0, err
    assert sorted(item["run_id"] for item in json.loads(out)) == sorted(run_ids)
    code, out, _ = cli(capsys, "runs", "--json")
    listed = {item["run_id"]: item for item in json.loads(out)}
    assert set(listed) == set(run_ids)
    for run_id in run_ids:
        assert listed[run_id]["test_accuracy"] == before[run_id]["test_accuracy"]
        assert listed[run_id]["name"] == before[run_id]["name"] and listed[run_id]["status"] == "finished"
        assert listed[run_id]["epochs_done"] == 1 and listed[run_id]["imported"] is True
    assert shift_maps.cached_shift_map(store.load(run_ids[0]), step=6, samples=50) is not None  # measured at home


def test_imported_runs_do_not_set_this_servers_time_estimates(home, tmp_path):
    from mnistviz.training import estimates

    store, run_ids = home
    spec = store.load(run_ids[0]).spec
    assert estimates.epoch_seconds(spec, store.list()) is not None
    lesson = tmp_path / "lesson.zip"
    bundle.export_runs(store, run_ids, lesson)
    for run_id in run_ids:
        store.delete(run_id)
    bundle.import_bundle(store, lesson)
    assert estimates.epoch_seconds(spec, store.list()) is None  # trained at home: not this server's pace


def test_imported_models_answer_on_draw(home, tmp_path):
    from mnistviz.analysis import predictor

    store, run_ids = home
    lesson = tmp_path / "lesson.zip"
    bundle.export_runs(store, run_ids, lesson)
    for run_id in run_ids:
        store.delete(run_id)
    bundle.import_bundle(store, lesson)
    models, skipped = predictor.saved_models(store)
    assert sorted(model.run_id for model in models) == sorted(run_ids) and not skipped


def test_export_all_and_a_file_object_bundle(home, capsys, tmp_path):
    store, run_ids = home
    lesson = tmp_path / "all.zip"
    assert cli(capsys, "export", "--all", "-o", str(lesson))[0] == 0
    with zipfile.ZipFile(lesson) as archive:
        names = archive.namelist()
    assert bundle.MANIFEST in names and {name.split("/")[0] for name in names} - {bundle.MANIFEST} == set(run_ids)
    assert not any(name.endswith(("status.json", "progress.jsonl", "teacher-token")) for name in names)
    buffer = io.BytesIO()
    bundle.export_runs(store, run_ids[:1], buffer)
    assert len(zipfile.ZipFile(buffer).namelist()) > 1


def test_export_refuses_a_run_that_still_trains_and_writes_nothing(home, capsys, tmp_path):
    from mnistviz.learning.spec import RunSpec

    store, run_ids = home
    queued = store.create(RunSpec("mlp", "centered", epochs=1))
    lesson = tmp_path / "lesson.zip"
    code, _, err = cli(capsys, "export", run_ids[0], queued, "-o", str(lesson))
    assert code == 2 and f"{queued} (it is queued)" in err and len(err.strip().splitlines()) == 1
    assert not lesson.exists()
    code, _, err = cli(capsys, "export", "-o", str(lesson))
    assert code == 2 and "no runs to export" in err


def _bundle_of(store, run_ids, tmp_path) -> bytes:
    path = tmp_path / "good.zip"
    bundle.export_runs(store, run_ids, path)
    return path.read_bytes()


def _rewrite(good: bytes, change) -> bytes:
    """The bundle with its entries passed through `change(name, data) -> [(name, data), ...]`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            for name, data in change(info.filename, source.read(info)):
                target.writestr(name, data)
    return out.getvalue()


def _lambda_model(path):
    import keras

    inputs = keras.Input((28, 28))
    hidden = keras.layers.Lambda(lambda x: x * 1.0)(inputs)
    keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(hidden))).save(path)
    return path.read_bytes()


def _declared_size(good: bytes, entry: str, size: int) -> bytes:
    """The bundle with the central directory claiming `size` bytes for `entry` (as a zip bomb's header does)."""
    data = bytearray(good)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length].decode() == entry:
            struct.pack_into("<I", data, at + 24, size)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(entry)


def _model_bomb(model: bytes) -> bytes:
    """The model file with 300 MB of zeros added inside it, deflated to about 300 kB."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("assets/zeros.bin", bytes(300 * 1024**2))
    return out.getvalue()


def _nan_model(tmp) -> bytes:
    """A notebook MLP whose last layer holds a NaN weight, as a diverged run saves it."""
    import numpy as np

    from mnistviz.learning.models import build_model

    model = build_model("mlp", 28)
    weights = model.layers[-1].get_weights()
    weights[0].flat[3] = np.nan
    model.layers[-1].set_weights(weights)
    model.save(tmp / "nan.keras")
    return (tmp / "nan.keras").read_bytes()


def _config_bomb(model: bytes) -> bytes:
    """The model file with its config.json swollen to 20 MB of nested lists (Keras would parse it all)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            swollen = "[" + "{}," * (20 * 1024**2 // 3 - 1) + "{}]"
            target.writestr(info, swollen if info.filename == "config.json" else source.read(info))
    return out.getvalue()


def _spec(data: bytes, **changes) -> bytes:
    return json.dumps({**json.loads(data), **changes}).encode()


def _more_epochs(data: bytes) -> bytes:
    history = json.loads(data)
    rows = [{**history["epochs"][0], "epoch": epoch} for epoch in (1, 2, 3)]  # 3 epochs of a 1-epoch run
    return json.dumps({**history, "epochs": rows}).encode()


def _link(name: str, ids) -> list:
    if name != bundle.MANIFEST:
        return []
    link = zipfile.ZipInfo(f"{ids[0]}/cross_accuracy.json")
    link.external_attr = 0o120777 << 16  # a symbolic link, as `zip --symlinks` stores one
    return [(link, b"/etc/passwd")]


HOSTILE = {
    "escape": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, d)] + ([("../escape.txt", b"x")] if n == bundle.MANIFEST else [])
        ),
        "no file of a run",
    ),
    "absolute": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, d)] + ([("/tmp/abs.txt", b"x")] if n == bundle.MANIFEST else [])
        ),
        "no file",
    ),
    "over 1 GB": (lambda good, ids, tmp: _declared_size(good, f"{ids[0]}/model.keras", 1_200_000_000), "larger"),
    "lambda layer": (
        lambda good, ids, tmp: _rewrite(
            good,
            lambda n, d: [(n, _lambda_model(tmp / "lambda.keras") if n == f"{ids[0]}/model.keras" else d)],
        ),
        "does not load safely",
    ),
    "bomb in the model": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, _model_bomb(d) if n == f"{ids[1]}/model.keras" else d)]
        ),
        "far more than any model",
    ),
    "nan answers": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, _nan_model(tmp) if n == f"{ids[1]}/model.keras" else d)]
        ),
        "answers are not numbers",
    ),
    "config bomb": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, _config_bomb(d) if n == f"{ids[1]}/model.keras" else d)]
        ),
        "config.json is 20.0 MB",
    ),
    "spec unlike its id": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, _spec(d, arch="cnn") if n == f"{ids[1]}/spec.json" else d)]
        ),
        "not what its id says",
    ),
    "more epochs than set": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, _more_epochs(d) if n == f"{ids[1]}/history.json" else d)]
        ),
        "more than the 1 it was set to train",
    ),
    "newer format": (
        lambda good, ids, tmp: _rewrite(
            good,
            lambda n, d: [(n, json.dumps({**json.loads(d), "format": 9}) if n == bundle.MANIFEST else d)],
        ),
        "newer mnistviz",
    ),
    "link": (lambda good, ids, tmp: _rewrite(good, lambda n, d: [(n, d)] + _link(n, ids)), "holds a link"),
    "not a zip": (lambda good, ids, tmp: b"hello", "is not a bundle"),
    "no manifest": (lambda good, ids, tmp: _rewrite(good, lambda n, d: [] if n == bundle.MANIFEST else [(n, d)]), "no"),
    "unlisted run": (
        lambda good, ids, tmp: _rewrite(
            good, lambda n, d: [(n, d)] + ([(n.replace(ids[1][-6:], "abcdef"), d)] if n.startswith(ids[1]) else [])
        ),
        "does not list",
    ),
    "damaged history": (
        lambda good, ids, tmp: _rewrite(good, lambda n, d: [(n, b"{" if n == f"{ids[1]}/history.json" else d)]),
        "damaged",
    ),
}


@pytest.mark.parametrize("attack", HOSTILE)
def test_a_hostile_bundle_is_refused_in_one_line_and_imports_nothing(attack, home, tmp_path, capsys):
    store, run_ids = home
    make, message = HOSTILE[attack]
    good = _bundle_of(store, run_ids, tmp_path)
    for run_id in run_ids:
        store.delete(run_id)
    hostile = tmp_path / "hostile.zip"
    hostile.write_bytes(make(good, run_ids, tmp_path))
    outside = sorted(p.name for p in tmp_path.parent.iterdir())

    code, out, err = cli(capsys, "import", str(hostile))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert store.list() == []  # not one run of the bundle came in
    assert sorted(p.name for p in store.root.iterdir() if p.name.startswith(".")) == []  # no staging left
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == outside
    assert not (store.root.parent / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()


def test_a_run_that_is_here_already_is_refused_by_name(home, tmp_path, capsys):
    store, run_ids = home
    lesson = tmp_path / "lesson.zip"
    bundle.export_runs(store, run_ids, lesson)
    store.delete(run_ids[1])  # one of the two is still here: neither comes in
    code, _, err = cli(capsys, "import", str(lesson))
    assert code == 2 and f"run {run_ids[0]} is here already" in err
    assert [record.run_id for record in store.list()] == [run_ids[0]]


def test_a_lying_header_cannot_unpack_more_than_its_kind(home, tmp_path):
    store, run_ids = home
    good = _bundle_of(store, run_ids, tmp_path)
    big = _rewrite(good, lambda n, d: [(n, b" " * 9_000_000 + d if n == f"{run_ids[0]}/history.json" else d)])
    small = _declared_size(big, f"{run_ids[0]}/history.json", 1000)
    for run_id in run_ids:
        store.delete(run_id)
    with pytest.raises(Exception, match="history.json") as error:
        bundle.import_bundle(store, io.BytesIO(small))
    assert type(error.value).__name__ == "MnistvizError" and store.list() == []


def test_an_import_killed_midway_is_swept_at_the_next_start(runs_dir):
    store = RunStore(runs_dir)
    runs_dir.mkdir()
    left = runs_dir / ".import-deadbeef"
    (left / "20260101-000000-mlp-centered-abcdef").mkdir(parents=True)
    assert store.sweep_temporary(older_than=0) == [left] and not left.exists()


PASSCODE = "owl-42-tree"


def test_only_the_teacher_exports_or_imports(home, tmp_path):
    from mnistviz.errors import MnistvizError
    from mnistviz.runs import access

    store, run_ids = home
    student = access.Access(session="s", passcode_set=True)
    with pytest.raises(MnistvizError, match="only the teacher"):
        access.export_bundle(store, run_ids, student)
    teacher = access.Access(session="t", passcode_set=True, teacher=True)
    packed = access.export_bundle(store, run_ids, teacher)
    for run_id in run_ids:
        store.delete(run_id)
    with pytest.raises(MnistvizError, match="only the teacher"):
        access.import_bundle(store, io.BytesIO(packed), student)
    assert store.list() == []
    assert sorted(access.import_bundle(store, io.BytesIO(packed), teacher)) == sorted(run_ids)


def test_on_compare_the_teacher_downloads_the_chosen_runs_and_uploads_a_bundle(home, tmp_path, monkeypatch):
    from tests.conftest import open_page
    from tests.test_teacher_pages import unlock

    monkeypatch.setenv("MNISTVIZ_TEACHER_PASSCODE", PASSCODE)
    store, run_ids = home
    packed = _bundle_of(store, run_ids, tmp_path)
    hostile = _rewrite(packed, lambda n, d: [(n, d)] + ([("../escape.txt", b"x")] if n == bundle.MANIFEST else []))

    at = open_page("pages/compare.py")
    assert any("Only the teacher exports and imports runs" in info.value for info in at.info)
    assert not at.get("file_uploader") and not at.get("download_button")[1:]  # the table's CSV only

    unlock(at)
    downloads = [button.proto.label for button in at.get("download_button")]
    assert "Download the 2 chosen run(s) as a bundle" in downloads
    for run_id in run_ids:
        store.delete(run_id)
    at.run()
    at.get("file_uploader")[0].set_value(("lesson.zip", hostile, "application/zip")).run()
    next(button for button in at.button if button.label == "Import its runs").click().run()
    assert not at.exception and any("no file of a run" in error.value for error in at.error)
    assert store.list() == []

    at.get("file_uploader")[0].set_value(("lesson.zip", packed, "application/zip")).run()
    next(button for button in at.button if button.label == "Import its runs").click().run()
    assert not at.exception
    assert any("Imported 2 run(s)" in message.value for message in at.success)
    assert sorted(record.run_id for record in store.list()) == sorted(run_ids)
    assert all(record.imported for record in store.list())


def test_export_lab_packs_the_shift_labs_grid_only(home, tmp_path, capsys):
    from mnistviz.analysis import lab
    from tests.conftest import save_fake_run

    store, run_ids = home
    cell = lab.grid()[0]
    grid_run = save_fake_run(store, cell.spec, 0.9, 0.9)
    shutil.copy(store.folder(run_ids[0]) / "model.keras", store.folder(grid_run) / "model.keras")
    lesson = tmp_path / "lab.zip"
    code, out, _ = cli(capsys, "export", "--lab", "-o", str(lesson), "--json")
    assert code == 0 and json.loads(out)["runs"] == [grid_run]


def test_terminal_codes_in_an_error_never_reach_the_teachers_terminal(home, tmp_path, capsys):
    store, run_ids = home
    good = _bundle_of(store, run_ids, tmp_path)
    for run_id in run_ids:
        store.delete(run_id)

    def spoof(name, data):
        if name != bundle.MANIFEST:
            return [(name, data)]
        manifest = json.loads(data)
        manifest["runs"][0]["error"] = "e\x1b[2Jrr\rspoof"
        return [(name, json.dumps(manifest))]

    (tmp_path / "spoof.zip").write_bytes(_rewrite(good, spoof))
    code, out, _ = cli(capsys, "import", str(tmp_path / "spoof.zip"))
    assert code == 0 and "\x1b" not in out and "\r" not in out
    code, out, _ = cli(capsys, "runs")
    assert "\x1b" not in out and "\r" not in out


def test_run_ids_are_ascii_digits_only():
    from mnistviz.runs.store import RUN_ID

    assert RUN_ID.fullmatch("20261207-184540-mlp-centered-6f9e06")
    assert not RUN_ID.fullmatch("٢٠٢٦١٢٠٧-184540-mlp-centered-6f9e06")  # Arabic-Indic digits are \d too
    assert not RUN_ID.fullmatch("２０２６１２０７-184540-mlp-centered-6f9e06")
