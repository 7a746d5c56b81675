"""Nonsense in, a clear message out, nothing lost: limits, edited addresses, bad data files, bad images.

The canvas' own bad drawings (empty, fully inked, a single dot) are in test_page_draw.py.
"""

import io
import json

import numpy as np
import pytest
from PIL import Image

from mnistviz.cli import main
from mnistviz.learning.models import build_model
from mnistviz.learning.spec import LIMITS, RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training import jobs
from tests.conftest import open_page, save_fake_run, shown
from tests.test_drawing import odd_modes, pattern, png_claiming_size

CLI_NAMES = {"epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr", "train_size": "--train-size"}
CLI_NAMES |= {"seed": "--seed", "augment_shift": "--augment-shift"}
PAGE_LABELS = {"epochs": "Epochs", "batch_size": "Batch size", "learning_rate": "Learning rate"}
PAGE_LABELS |= {"train_size": "Training digits", "seed": "Seed", "augment_shift": "Random shift"}


def beyond(name: str) -> list[str]:
    low, high = LIMITS[name]
    if name == "learning_rate":
        return [f"{low / 10:g}", f"{high * 10:g}", "nan", "inf", "-inf"]
    return [str(low - 1), str(high + 1)]


def limit_spec(name: str, value) -> RunSpec:
    small = {} if name == "batch_size" else {"batch_size": 1}
    return RunSpec("mlp", "centered", **{**small, name: value})


@pytest.mark.parametrize("name", list(CLI_NAMES))
def test_every_limit_is_accepted_and_everything_beyond_it_refused_through_the_cli(name, runs_dir, capsys):
    low, high = LIMITS[name]
    assert limit_spec(name, low) and limit_spec(name, high)  # at the limits: a valid run
    for value in beyond(name):
        argv = ["train", "--arch", "mlp", "--data", "centered", "--batch-size", "1", f"{CLI_NAMES[name]}={value}"]
        assert main(argv) == 2, value
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("error: ")
        assert name.replace("_", " ") in err or "not a whole number" in err or "a number" in err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "2.5"], "'2.5' is not a whole number"),
        (["--epochs", "9" * 5000], "is not a whole number"),  # too long for int(): refused, not a traceback
        (["--lr", "0.001x"], "'0.001x' is not a number"),
        (["--name", "x" * 81], "at most 80 characters"),
        (["--train-size", "100"], "batch size (1024) cannot be larger than the training set (100 digits)"),
    ],
)
def test_malformed_cli_values_exit_2_with_one_line(argv, message, runs_dir, capsys):
    assert main(["train", "--arch", "mlp", "--data", "centered", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err


def test_a_run_name_never_becomes_a_path(runs_dir, synthetic_variants, capsys):
    argv = ["train", "--arch", "mlp", "--data", "centered", "--epochs", "1", "--train-size", "600"]
    assert main([*argv, "--batch-size", "100", "--name", "../../escape\n/etc", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["name"] == "../../escape /etc"
    assert [p.name for p in runs_dir.parent.iterdir()] == ["runs"]  # nothing written beside the runs folder
    assert [p.name for p in runs_dir.iterdir()] == [summary["run_id"]]


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, LIMITS[name][1] * 10 + 1) for name in PAGE_LABELS]
    + [(name, LIMITS[name][0] - 1) for name in PAGE_LABELS if name != "learning_rate"]
    + [("learning_rate", "nan"), ("learning_rate", "inf"), ("learning_rate", "0.001; rm -rf"), ("epochs", 1e9)],
)
def test_a_forged_or_out_of_range_train_form_is_refused_with_a_message(name, value, runs_dir, synthetic_variants):
    at = open_page("pages/train.py")
    inputs = {n.label: n for n in [*at.number_input, *at.text_input]}
    shown_limit = inputs[PAGE_LABELS[name]].help.split(" to ")[-1].rstrip(".").replace(",", "")
    assert LIMITS[name][1] == pytest.approx(float(shown_limit))  # the form says the limits it keeps
    inputs[PAGE_LABELS[name]].set_value(str(value) if name == "learning_rate" else value)  # a crafted request
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any(name.replace("_", " ") in error.value for error in at.error), [e.value for e in at.error]
    assert RunStore(runs_dir).list() == []  # nothing queued, not even a default run


def test_the_train_page_at_the_limits_trains_or_says_why_not(runs_dir, synthetic_variants, monkeypatch):
    monkeypatch.setattr(jobs.JobManager, "_start_waiting", lambda self: None)
    monkeypatch.setenv("MNISTVIZ_STUDENT_MINUTES", "1000")  # 200 epochs at batch size 1: hours (test_fair_class.py)
    at = open_page("pages/train.py")
    inputs = {n.label: n for n in at.number_input}
    inputs["Training digits"].set_value(LIMITS["train_size"][0])
    inputs["Batch size"].set_value(LIMITS["batch_size"][1])
    at.get("form_submit_button")[0].click()
    at.run()
    assert any(
        "batch size (8192) cannot be larger than the training set (10 digits)" in shown(e.value) for e in at.error
    )
    for name in ("epochs", "learning_rate", "seed", "augment_shift"):
        inputs = {n.label: n for n in [*at.number_input, *at.text_input]}
        inputs["Batch size"].set_value(1)
        value = LIMITS[name][1]
        inputs[PAGE_LABELS[name]].set_value(str(value) if name == "learning_rate" else value)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception and not at.error
    (record,) = RunStore(runs_dir).list()
    assert (record.spec.epochs, record.spec.seed, record.spec.augment_shift) == (200, 2**31 - 1, 14)
    assert record.spec.learning_rate == LIMITS["learning_rate"][1]


@pytest.mark.parametrize(
    "run",
    ["../../etc/passwd", "/etc", "", " ", "x" * 10_000, "20260101-000000-mlp-centered-abcdef", "%00", "<script>"],
)
def test_nonsense_in_the_address_is_harmless(run, runs_dir, synthetic_variants):
    at = open_page("pages/train.py", {"run": run})
    assert not at.error
    assert any("No run yet" in info.value for info in at.info)
    assert bool(run) == any("There is no run" in warning.value for warning in at.warning)  # said, not silent
    assert not at.query_params.get("run")
    assert not runs_dir.exists() or not [path for path in runs_dir.iterdir() if path.is_dir()]  # no run made


def mnist_like(path, **changes) -> None:
    """An .npz in Keras' MNIST layout (zeros) with some arrays replaced."""
    arrays = {"x_train": np.zeros((60000, 28, 28), np.uint8), "y_train": np.zeros(60000, np.uint8)}
    arrays |= {"x_test": np.zeros((10000, 28, 28), np.uint8), "y_test": np.zeros(10000, np.uint8)}
    np.savez(path, **(arrays | changes))


def huge_header(path) -> None:
    """x_train.npy claims 28e12 elements in a 100-byte file."""
    import zipfile

    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "|u1", "fortran_order": False, "shape": (10**12, 28, 28)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", member.getvalue())
        for key in ("y_train", "x_test", "y_test"):
            archive.writestr(f"{key}.npy", b"")


@pytest.fixture(
    params=["missing", "truncated", "wrong shape", "not a zip", "float pixels", "huge header", "labels outside"]
)
def bad_data_file(request, tmp_path, mnist_npz, monkeypatch):
    path = tmp_path / "mnist.npz"
    if request.param == "float pixels":
        mnist_like(path, x_train=np.random.default_rng(0).random((60000, 28, 28)).astype(np.float32))
    elif request.param == "huge header":
        huge_header(path)
    elif request.param == "labels outside":
        mnist_like(path, y_test=np.full(10000, 12, np.uint8))
    elif request.param == "truncated":
        path.write_bytes(mnist_npz.read_bytes()[:1_000_000])
    elif request.param == "wrong shape":
        np.savez(path, x_train=np.zeros((100, 28, 28), np.uint8), y_train=np.zeros(100, np.uint8))
    elif request.param == "not a zip":
        path.write_text("x_train,y_train\n1,2\n")
    monkeypatch.setenv("MNISTVIZ_DATA", str(path))
    return path


def test_a_bad_data_file_is_a_message_on_the_train_page(bad_data_file, runs_dir):
    at = open_page("pages/train.py")
    (error,) = [shown(e.value) for e in at.error if "MNISTVIZ_DATA points at an unusable file" in shown(e.value)]
    assert bad_data_file.name in error and str(bad_data_file.parent) not in error  # no server paths for students
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any("cannot train without the data" in e.value for e in at.error)


def test_a_bad_data_file_fails_a_cli_run_with_one_line(bad_data_file, runs_dir, capsys):
    argv = [
        "train",
        "--arch",
        "mlp",
        "--data",
        "centered",
        "--epochs",
        "1",
        "--train-size",
        "100",
        "--batch-size",
        "10",
    ]
    assert main(argv) == 2
    _, err = capsys.readouterr()
    assert err.splitlines()[-1].startswith("error: run ") and "MNISTVIZ_DATA points at an unusable file" in err
    (record,) = RunStore(runs_dir).list()
    assert record.status == "failed" and "MNISTVIZ_DATA" in record.error


@pytest.fixture(scope="module")
def one_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    store = RunStore(root)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    store.save_model(run_id, build_model("mlp", 28))
    return root


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not an image"),
        (b"%PDF-1.4 a letter, not a digit", "is not an image"),
        (png_claiming_size(8000, 6000), "too large to read safely"),
        (png_claiming_size(100_000, 100_000), "too large to read safely"),
        (png_claiming_size(56, 56), "damaged or incomplete"),  # a header and no pixels
        (png_claiming_size(100_000, 1), "once squared"),  # 177 bytes that would square to 37 GiB
        (png_claiming_size(30_000, 2), "once squared"),
    ],
)
def test_predict_refuses_what_is_not_a_usable_image(one_model, monkeypatch, tmp_path, capsys, content, message):
    monkeypatch.setenv("MNISTVIZ_RUNS", str(one_model))
    path = tmp_path / "digit.png"
    path.write_bytes(content)
    assert main(["predict", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and str(path) in err


def test_predict_reads_every_odd_image_mode(one_model, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MNISTVIZ_RUNS", str(one_model))
    paths = []
    for index, image in enumerate(odd_modes(pattern()).values()):
        paths.append(str(tmp_path / f"mode{index}.png"))
        image.save(paths[-1])
    frames = [Image.fromarray(pattern()), Image.fromarray(255 - pattern())]
    paths.append(str(tmp_path / "animated.gif"))
    frames[0].save(paths[-1], save_all=True, append_images=frames[1:])
    assert main(["predict", *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [result["image"] for result in results] == paths
    assert all(len(result["predictions"]) == 1 for result in results)
