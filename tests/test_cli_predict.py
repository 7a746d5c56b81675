"""`python -m mnistviz predict`: every saved model's answer per image, clear exits when it cannot answer."""

import json

import numpy as np
import pytest
from PIL import Image

from mnistviz.analysis import drawing
from mnistviz.cli import main
from mnistviz.learning import data
from mnistviz.learning.field import CENTER, DIGIT, FIELD, shift
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training.jobs import JobManager
from tests.conftest import synthetic_mnist
from tests.threaded import ThreadExecutor


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """A centered MLP trained for a moment on the synthetic squares."""
    root = tmp_path_factory.mktemp("runs")
    variants = {name: data.make_variant(synthetic_mnist(), name) for name in data.VARIANTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        manager = JobManager(RunStore(root), ThreadExecutor())  # the patched data applies in this process
        job = manager.submit(RunSpec("mlp", "centered", epochs=3, batch_size=50, train_size=600))
        assert manager.wait(job.run_id, timeout=300)
    return root


@pytest.fixture
def runs(one_run, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_RUNS", str(one_run))
    return one_run


def canvas_png(path, digit: np.ndarray, transparent: bool = False) -> str:
    """Save a 28x28 digit as the canvas delivers it: centered in the field, 5x larger, white ink, RGBA."""
    field = np.zeros((FIELD, FIELD), np.uint8)
    field[CENTER : CENTER + DIGIT, CENTER : CENTER + DIGIT] = digit
    ink = drawing.enlarge(field, 5)
    if transparent:  # what the canvas sends: white strokes whose opacity is the ink
        rgba = np.dstack([np.full_like(ink, 255)] * 3 + [ink])
    else:
        rgba = np.dstack([ink, ink, ink, np.full_like(ink, 255)])
    Image.fromarray(rgba, "RGBA").save(path)
    return str(path)


def synthetic_digit(label: int) -> np.ndarray:
    digit = np.zeros((DIGIT, DIGIT), np.uint8)
    row, col = 4 + 7 * (label // 4), 4 + 6 * (label % 4)
    digit[row : row + 6, col : col + 5] = 255
    return digit


def test_json_lists_every_models_prediction_for_each_image(runs, tmp_path, capsys):
    paths = [canvas_png(tmp_path / f"{label}.png", synthetic_digit(label), label % 2 == 1) for label in (2, 5)]
    assert main(["predict", *paths, "--json"]) == 0
    out, _ = capsys.readouterr()
    results = json.loads(out)
    assert [r["image"] for r in results] == paths
    for label, result in zip((2, 5), results, strict=True):
        (prediction,) = result["predictions"]
        assert prediction["arch"] == "mlp" and prediction["data"] == "centered"
        assert prediction["run_id"] == RunStore(runs).list()[0].run_id
        assert len(prediction["probabilities"]) == 10 and abs(sum(prediction["probabilities"]) - 1) < 1e-4
        assert prediction["digit"] == label


def test_plain_output_names_image_model_and_digit(runs, tmp_path, capsys):
    path = canvas_png(tmp_path / "seven.png", synthetic_digit(7))
    assert main(["predict", path]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == path and "MLP centered" in lines[1] and " 7  (" in lines[1]


def test_recenter_changes_what_the_model_sees_of_a_far_away_digit(runs, tmp_path, capsys):
    field = shift(np.pad(synthetic_digit(0), CENTER), 25, 25)
    path = tmp_path / "corner.png"
    Image.fromarray(field).save(path)
    assert main(["predict", str(path), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)[0]["predictions"][0]["probabilities"]
    assert main(["predict", str(path), "--recenter", "--json"]) == 0
    recentered = json.loads(capsys.readouterr().out)[0]["predictions"][0]["probabilities"]
    assert not np.allclose(plain, recentered)


def test_an_empty_image_is_predicted_with_a_warning(runs, tmp_path, capsys):
    path = tmp_path / "blank.png"
    Image.new("L", (56, 56)).save(path)
    assert main(["predict", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)) == 1 and "warning" in err and "empty" in err


def test_a_bad_image_among_good_ones_exits_2_naming_it(runs, tmp_path, capsys):
    good = canvas_png(tmp_path / "good.png", synthetic_digit(1))
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert main(["predict", good, str(bad), good, "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: cannot read 1 of 3 images") and str(bad) in err


def test_without_saved_models_it_exits_2_and_says_how_to_train(runs_dir, tmp_path, capsys):
    path = canvas_png(tmp_path / "one.png", synthetic_digit(1))
    assert main(["predict", path]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "no saved model" in err and "mnistviz train" in err


def test_a_corrupt_model_is_reported_and_the_command_still_fails_clearly(runs_dir, tmp_path, capsys):
    store = RunStore(runs_dir)
    run_id = store.create(RunSpec("cnn", "offset"))
    (store.folder(run_id) / "model.keras").write_bytes(b"garbage")
    path = canvas_png(tmp_path / "one.png", synthetic_digit(1))
    assert main(["predict", path]) == 2
    _, err = capsys.readouterr()
    assert f"warning: skipped run {run_id}" in err and "does not load" in err
    assert err.splitlines()[-1].startswith("error: no saved model")


@pytest.mark.integration
def test_a_cnn_trained_on_real_mnist_reads_canvas_pngs(runs_dir, tmp_path, capsys):
    manager = JobManager(RunStore(runs_dir))
    job = manager.submit(RunSpec("cnn", "centered", epochs=1, train_size=10000, batch_size=64))
    assert manager.wait(job.run_id, timeout=600)
    assert manager.store.load(job.run_id).status == "finished", manager.store.load(job.run_id).error
    test = data.load_variant("centered")
    paths = [canvas_png(tmp_path / f"test{i}.png", test.x_test[i], transparent=i % 2 == 1) for i in range(10)]
    assert main(["predict", *paths, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    digits = [result["predictions"][0]["digit"] for result in results]
    assert sum(digit == label for digit, label in zip(digits, test.y_test[:10], strict=True)) >= 8

    moved = []  # the same digits far down and right: mostly out of the centered model's window
    for i in range(10):
        path = tmp_path / f"moved{i}.png"
        Image.fromarray(shift(np.pad(test.x_test[i], CENTER), 13, 12)).save(path)
        moved.append(str(path))

    def right_answers(*options: str) -> int:
        assert main(["predict", *moved, *options, "--json"]) == 0
        answers = [result["predictions"][0]["digit"] for result in json.loads(capsys.readouterr().out)]
        return sum(digit == label for digit, label in zip(answers, test.y_test[:10], strict=True))

    assert right_answers("--recenter") >= 8  # MNIST's normalisation brings each digit back into the window
    assert right_answers() <= 5
