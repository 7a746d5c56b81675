"""Crashes, damaged files and full disks: the run in trouble says why, and nothing else is lost."""

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnistviz.analysis import predictor
from mnistviz.learning.models import build_model
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training.jobs import JobManager
from tests.conftest import open_page, save_fake_run, shown
from tests.threaded import ThreadExecutor

REPO = Path(__file__).resolve().parents[1]


def epochs_saved(runs: Path) -> int:
    """Epochs in the history.json of the one run under `runs`, 0 while there is none (or it is being replaced)."""
    for history in runs.glob("*/history.json"):
        try:
            return len(json.loads(history.read_text())["epochs"])
        except (OSError, ValueError, KeyError):
            return 0
    return 0


def test_kill_9_during_training_loses_at_most_the_epoch_in_progress(tmp_path, mnist_npz, monkeypatch):
    runs = tmp_path / "runs"
    env = {**os.environ, "MNISTVIZ_RUNS": str(runs), "MNISTVIZ_DATA": str(mnist_npz), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "mnistviz", "train", "--arch", "cnn", "--data", "centered"]
    command += ["--train-size", "3000", "--epochs", "5", "--batch-size", "100"]
    trainer = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while epochs_saved(runs) < 1:
            assert trainer.poll() is None, "the training process ended before its first epoch"
            assert time.monotonic() < deadline, "no epoch saved within 120 s"
            time.sleep(0.05)
        seen = epochs_saved(runs)
        os.kill(trainer.pid, signal.SIGKILL)
    finally:
        trainer.kill()
        trainer.wait()
    assert trainer.returncode == -signal.SIGKILL

    store = RunStore(runs)
    (record,) = store.list()
    assert record.status == "interrupted"
    assert seen <= record.epochs_done < 5  # the epochs saved before the kill are all there
    loaded, skipped = predictor.saved_models(store)
    assert [saved.run_id for saved in loaded] == [record.run_id] and not skipped
    (prediction,) = predictor.predict_all(np.zeros((56, 56), np.uint8), models=loaded)
    assert abs(sum(prediction.probabilities) - 1) < 1e-4

    monkeypatch.setenv("MNISTVIZ_RUNS", str(runs))
    monkeypatch.setenv("MNISTVIZ_DATA", str(mnist_npz))
    at = open_page("pages/train.py", {"run": record.run_id})
    assert any(f"it kept {record.epochs_done} epochs" in w.value for w in at.warning)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGES = {
    "spec.json": truncate,
    "status.json": lambda path: path.write_bytes(b"\x00\xff garbage"),
    "history.json": truncate,
    "evaluation.json": lambda path: path.write_text("[1, 2"),
    "model.keras": truncate,
}


@pytest.fixture
def damaged_runs(runs_dir):
    """A good finished run with a real (untrained) model, and one run per file the test damages."""
    store = RunStore(runs_dir)
    runs = {}
    for name in ["good", *DAMAGES]:
        arch = "mlp" if name == "good" else "cnn"
        runs[name] = save_fake_run(store, RunSpec(arch, "centered"), 0.9, 0.9)
        store.save_model(runs[name], build_model(arch, 28))
        if name != "good":
            DAMAGES[name](store.folder(runs[name]) / name)
    return store, runs


def test_a_damaged_file_costs_only_its_own_run_on_every_page(damaged_runs, synthetic_variants):
    store, runs = damaged_runs
    records = {record.run_id: record for record in store.list()}
    assert records[runs["good"]].status == "finished"
    for name in ("spec.json", "status.json", "history.json", "evaluation.json"):
        assert records[runs[name]].status == "damaged" and name in records[runs[name]].error

    loaded, skipped = predictor.saved_models(store)
    assert runs["good"] in {saved.run_id for saved in loaded}
    reasons = {run.run_id: run.reason for run in skipped}
    assert set(reasons) == {runs["model.keras"], runs["spec.json"]}
    assert "does not load" in reasons[runs["model.keras"]] and "unreadable" in reasons[runs["spec.json"]]
    draw = open_page("pages/draw.py")
    assert any(runs["model.keras"] in shown(e.value) and "does not load" in e.value for e in draw.error)
    for page in ("app.py", "pages/compare.py"):
        open_page(page)  # no exception: every damaged run costs only itself
    train = open_page("pages/train.py", {"run": runs["history.json"]})
    assert any("damaged" in shown(e.value) and "history.json" in shown(e.value) for e in train.error)


@pytest.fixture
def disk_fills_up(monkeypatch):
    """Once `full` is set, every fsync and rename fails as on a full disk."""
    full = threading.Event()
    real_fsync, real_replace = os.fsync, os.replace

    def no_space(real):
        def call(*args, **kwargs):
            if full.is_set():
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(os, "fsync", no_space(real_fsync))
    monkeypatch.setattr(os, "replace", no_space(real_replace))
    return full


def test_a_full_disk_during_training_fails_the_run_clearly_and_keeps_what_was_saved(
    tmp_path, synthetic_variants, disk_fills_up, monkeypatch
):
    store = RunStore(tmp_path)
    write_history = store.write_history

    def first_epoch_then_full(run_id, history):
        write_history(run_id, history)
        disk_fills_up.set()

    monkeypatch.setattr(store, "write_history", first_epoch_then_full)
    manager = JobManager(store, ThreadExecutor(store=store))
    job = manager.submit(RunSpec("mlp", "centered", epochs=3, batch_size=50, train_size=600))
    assert manager.wait(job.run_id, timeout=120)

    snapshot = job.snapshot()
    assert snapshot.status == "failed"
    assert "No space left on device" in snapshot.error and "free some disk space" in snapshot.error
    record = store.load(job.run_id)
    assert record.status == "failed" and record.error == snapshot.error  # even though status.json could not be saved
    folder = store.folder(job.run_id)
    assert [row["epoch"] for row in json.loads((folder / "history.json").read_text())["epochs"]] == [1]
    saved = ["history.json", "model.keras", "progress.jsonl", "spec.json", "status.json"]
    assert sorted(p.name for p in folder.iterdir()) == saved
    disk_fills_up.clear()
    loaded, _ = predictor.saved_models(store)
    assert [saved.run_id for saved in loaded] == [job.run_id]  # the first epoch's weights still work


def test_a_full_disk_when_starting_a_run_is_a_message_on_the_page(runs_dir, synthetic_variants, disk_fills_up):
    at = open_page("pages/train.py")
    inputs = {n.label: n for n in at.number_input}
    inputs["Training digits"].set_value(600)
    inputs["Batch size"].set_value(50)
    disk_fills_up.set()
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any("cannot save a new run" in e.value and "No space left on device" in e.value for e in at.error)
    assert not any(runs_dir.iterdir())  # no half-made run folder
