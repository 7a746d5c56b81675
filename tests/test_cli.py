import json
import subprocess
import sys
from pathlib import Path

import pytest

from mnistviz.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--arch", "mlp", "--data", "centered", "--epochs", "0"], "epochs must be between 1 and 200"),
        (["train", "--arch", "mlp", "--data", "centered", "--lr", "-0.01"], "learning rate must be between"),
        (["train", "--arch", "cnn", "--data", "offset", "--train-size", "100"], "batch size (256) cannot be larger"),
        (["train", "--arch", "resnet", "--data", "centered"], "invalid choice: 'resnet'"),
        (["train", "--arch", "mlp", "--data", "centered", "--epochs", "many"], "'many' is not a whole number"),
        (["train", "--arch", "mlp"], "required"),
        (["train", "--arch", "mlp", "--data", "centered", "--head", "gmp"], "head 'gmp' is a CNN setting"),
        (["train", "--arch", "cnn", "--data", "centered", "--pool", "average"], "invalid choice: 'average'"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys, runs_dir):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # nothing was saved


def test_runs_json_is_one_document_listing_saved_runs(capsys, runs_dir):
    from mnistviz.learning.spec import RunSpec
    from mnistviz.runs.store import RunStore

    run_id = RunStore().create(RunSpec("cnn", "offset"))
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["run_id"] for item in listed] == [run_id]
    assert listed[0]["arch"] == "cnn" and listed[0]["data"] == "offset"


def test_train_json_reports_the_summary(capsys, runs_dir, synthetic_variants):
    argv = [
        "train",
        "--arch",
        "mlp",
        "--data",
        "centered",
        "--epochs",
        "1",
        "--train-size",
        "600",
        "--batch-size",
        "60",
    ]
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    for key in [
        "run_id",
        "status",
        "arch",
        "data",
        "epochs_done",
        "val_accuracy",
        "test_accuracy",
        "params",
        "seconds_per_epoch",
        "samples_per_second",
    ]:
        assert key in summary
    assert summary["status"] == "finished" and summary["epochs_done"] == 1 and summary["params"] == 535818
    assert "epoch 1/1" in err  # the progress bar went to stderr


def test_train_builds_the_cnn_variant_asked_for(capsys, runs_dir, synthetic_variants):
    argv = ["train", "--arch", "cnn", "--data", "centered", "--head", "gap", "--padding", "same", "--pool", "blur"]
    assert main([*argv, "--epochs", "1", "--train-size", "200", "--batch-size", "50", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["head"], summary["padding"], summary["pool"]) == ("gap", "same", "blur")
    assert summary["name"] == "CNN-gap-same-blur centered" and summary["params"] == 60_554


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["robustness", "20260101-000000-mlp-centered-abcdef"], "there is no run"),
        (["robustness", "../../etc"], "is not a run id"),
        (["robustness", "20260101-000000-mlp-centered-abcdef", "--step", "0"], "step must be between 1 and 14"),
        (["robustness", "20260101-000000-mlp-centered-abcdef", "--samples", "5"], "samples must be between"),
        (["train-all", "--preset", "fast"], "invalid choice: 'fast'"),
    ],
)
def test_bad_robustness_and_preset_arguments_exit_2(argv, message, capsys, runs_dir):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and err.count("\n") == 1


def test_robustness_json_has_one_accuracy_per_shift(capsys, runs_dir, synthetic_variants):
    argv = ["train", "--arch", "cnn", "--data", "offset", "--epochs", "1", "--train-size", "600", "--batch-size", "60"]
    assert main([*argv, "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["robustness", run_id, "--step", "7", "--samples", "50", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["run_id"] == run_id
    assert len(result["shifts"]) == len(result["accuracy"]) == 25
    assert [0, 0] in result["shifts"] and all(0 <= a <= 1 for a in result["accuracy"])
    assert 0 <= result["consistency"] <= 1 and 0 <= result["accuracy_anywhere"] <= 1
    by_distance = result["stability_by_distance"]
    assert by_distance["distances"][0] == 1 and by_distance["stability"][0] == result["one_pixel_stability"]
    assert 0 <= result["one_pixel_stability"] <= 1 and result["consistency_range"] == 4
    assert main(["robustness", run_id, "--step", "7", "--samples", "50"]) == 0
    out = capsys.readouterr().out
    assert "dy \\ dx" in out and "one-pixel stability (answer unchanged" in out and "consistency (Zhang 2019" in out


def test_robustness_defaults_are_the_dashboards():
    from mnistviz.analysis import shifts
    from mnistviz.cli import build_parser

    arguments = build_parser().parse_args(["robustness", "RUN"])
    assert (arguments.step, arguments.samples) == (shifts.DEFAULT_STEP, shifts.DEFAULT_SAMPLES)


def test_robustness_refuses_an_unknown_run_before_loading_tensorflow(runs_dir):
    code = (
        "import sys\n"
        "from mnistviz.cli import main\n"
        "code = main(['robustness', '20260101-000000-mlp-centered-abcdef'])\n"
        "print(code, 'tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["2", "False"]
    assert result.stderr.strip() == "error: there is no run '20260101-000000-mlp-centered-abcdef'"


def test_a_second_ctrl_c_leaves_with_one_line_not_a_traceback(monkeypatch, capsys):
    from mnistviz import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "command_runs", interrupted)
    assert cli.main(["runs"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_tensorflows_start_up_lines_never_cross_the_progress_bar(runs_dir, mnist_npz):
    import os

    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    environment |= {"MNISTVIZ_RUNS": str(runs_dir), "MNISTVIZ_DATA": str(mnist_npz)}
    command = [sys.executable, "-m", "mnistviz", "train", "--arch", "mlp", "--data", "centered"]
    command += ["--epochs", "1", "--train-size", "200", "--batch-size", "50"]
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, timeout=300)
    stderr = result.stderr.decode()  # not text mode: it would turn the bar's carriage returns into new lines
    assert result.returncode == 0, stderr
    after_start = stderr.split("\nrun ", 1)[1].split("\n")[1:]  # what follows the "run ID: ..." line
    assert after_start and all(line.startswith("\r[") or line == "" for line in after_start), after_start
    assert not any(marker in line for line in after_start for marker in ("I0000", "W0000", "E0000", "WARNING"))
    assert "E0000" not in stderr and "cuInit" not in stderr


def test_train_reuse_prints_the_finished_run_with_the_same_settings_without_training(runs_dir, tmp_path):
    import os

    from mnistviz.learning.models import build_model
    from mnistviz.learning.spec import RunSpec
    from mnistviz.runs.store import RunStore
    from tests.conftest import save_fake_run

    store = RunStore(runs_dir)
    spec = RunSpec("mlp", "centered", epochs=1, train_size=600, batch_size=60)
    finished = save_fake_run(store, spec, 0.9, 0.91)
    store.save_model(finished, build_model("mlp", spec.image_size))
    argv = ["train", "--arch", "mlp", "--data", "centered", "--epochs", "1", "--train-size", "600"]
    argv += ["--batch-size", "60", "--reuse", "--json"]
    code = (
        "import io, contextlib, json, sys\n"
        "from mnistviz.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main({argv!r})\n"
        "print(code, json.loads(out.getvalue())['run_id'], 'tensorflow' in sys.modules)\n"
    )
    environment = {**os.environ, "MNISTVIZ_RUNS": str(runs_dir), "MNISTVIZ_DATA": str(tmp_path / "absent.npz")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=environment, capture_output=True, text=True)
    assert result.stdout.split() == ["0", finished, "False"], result.stderr  # no data read, no TensorFlow, no run
    assert "already trained with these settings" in result.stderr
    assert [record.run_id for record in store.list()] == [finished]
