import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning.spec import RunSpec
from mnistviz.runs import runfiles
from mnistviz.runs.store import RunStore, atomic_write_json


def test_a_new_run_is_queued_with_its_spec(tmp_path):
    store = RunStore(tmp_path)
    spec = RunSpec("cnn", "offset", epochs=3)
    run_id = store.create(spec)
    record = store.load(run_id)
    assert record.status == "queued" and record.spec == spec and record.epochs_done == 0
    assert [r.run_id for r in store.list()] == [run_id]


def test_run_ids_from_user_text_are_refused(tmp_path):
    store = RunStore(tmp_path)
    for bad in ["../etc", "/tmp/x", "20260101-000000-mlp-centered-abc", ""]:
        with pytest.raises(MnistvizError, match="not a run id"):
            store.folder(bad)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "history.json"
    atomic_write_json(path, {"epochs": [1]})

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        atomic_write_json(path, {"epochs": [1, 2]})
    assert json.loads(path.read_text()) == {"epochs": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]  # no temporary left behind


def test_a_run_whose_process_died_is_interrupted_with_its_epochs(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create(RunSpec("mlp", "centered"))
    store.write_history(run_id, {"epochs": [{"epoch": 1, "val_accuracy": 0.9}], "batches": []})
    # a real process marks the run as running, then dies without a word
    code = f"import sys; from mnistviz.runs.store import RunStore; RunStore(sys.argv[1]).write_status('{run_id}', 'running')"
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    record = store.load(run_id)
    assert record.status == "interrupted"
    assert record.epochs_done == 1 and record.best_val_accuracy == 0.9


def test_a_run_training_on_another_machine_is_judged_by_its_heartbeat_and_a_queued_one_by_its_dashboard(tmp_path):
    import time

    from mnistviz.runs.store import HEARTBEAT_LOST

    store = RunStore(tmp_path)
    beating, silent, waiting = (store.create(RunSpec("mlp", "centered", seed=n)) for n in range(3))
    code = (
        "import json, sys; from pathlib import Path; from mnistviz.runs.store import RunStore\n"
        "store = RunStore(sys.argv[1])\n"
        f"for run_id, beat in (('{beating}', {time.time()}), ('{silent}', {time.time() - HEARTBEAT_LOST - 5})):\n"
        "    store.write_status(run_id, 'running', executor='ray')\n"
        "    path = Path(sys.argv[1]) / run_id / 'status.json'\n"
        "    path.write_text(json.dumps({**json.loads(path.read_text()), 'host': 'gpu-box', 'heartbeat': beat}))\n"
        f"store.write_status('{waiting}', 'queued', executor='ray')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)  # the writer is gone from here
    trained_elsewhere = store.load(beating)
    assert trained_elsewhere.status == "running"  # its pid means nothing on this machine: its heartbeat is recent
    assert (trained_elsewhere.executor, trained_elsewhere.host) == ("ray", "gpu-box")
    assert trained_elsewhere.summary()["executor"] == "ray"
    assert store.load(silent).status == "interrupted"  # no heartbeat for over a minute: its worker is gone
    assert store.load(waiting).status == "interrupted"  # it waited in the queue of a dashboard that is gone
    assert store.load(waiting).abandoned_queue


def test_a_heartbeat_never_overwrites_how_a_run_ended(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create(RunSpec("mlp", "centered"))
    store.heartbeat(run_id)
    assert "heartbeat" not in json.loads((store.folder(run_id) / "status.json").read_text())  # queued: no beat
    store.write_status(run_id, "running")
    store.heartbeat(run_id)
    assert json.loads((store.folder(run_id) / "status.json").read_text())["heartbeat"] > 0
    store.write_status(run_id, "finished")
    store.heartbeat(run_id)
    assert store.load(run_id).status == "finished"


def test_a_local_run_is_judged_by_its_pid_even_after_the_machine_was_renamed(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create(RunSpec("mlp", "centered"))
    code = (
        "import json, sys; from pathlib import Path; from mnistviz.runs.store import RunStore\n"
        f"RunStore(sys.argv[1]).write_status('{run_id}', 'queued')\n"
        f"path = Path(sys.argv[1]) / '{run_id}' / 'status.json'\n"
        "path.write_text(json.dumps({**json.loads(path.read_text()), 'host': 'laptop-at-school'}))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)  # the dashboard that queued it is gone
    record = store.load(run_id)
    assert record.status == "interrupted" and record.abandoned_queue  # so the restarted dashboard queues it again


def test_a_running_run_of_a_live_process_stays_running(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create(RunSpec("mlp", "centered"))
    store.write_status(run_id, "running")
    assert store.load(run_id).status == "running"


def test_a_corrupt_file_marks_only_that_run_damaged(tmp_path):
    store = RunStore(tmp_path)
    good = store.create(RunSpec("mlp", "centered"))
    bad = store.create(RunSpec("cnn", "centered"))
    (tmp_path / bad / "history.json").write_text('{"epochs": [')
    records = {r.run_id: r for r in store.list()}
    assert records[good].status == "queued"
    assert records[bad].status == "damaged" and "history.json" in records[bad].error


def test_unwritable_runs_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MnistvizError, match="runs folder"):
        RunStore(blocker / "runs").create(RunSpec("mlp", "centered"))


def test_listing_runs_parses_each_history_once_until_it_changes(tmp_path, monkeypatch):
    from mnistviz.runs import store as store_module
    from tests.conftest import save_fake_run

    store = RunStore(tmp_path)
    run_ids = [save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9, epochs=3) for _ in range(3)]
    history_reads = []
    real = store_module._read_json
    monkeypatch.setattr(
        store_module,
        "_read_json",
        lambda path: (history_reads.append(path.name) if path.name == "history.json" else None) or real(path),
    )
    first = store.list()
    assert [record.epochs_done for record in first] == [3, 3, 3] and len(history_reads) == 3
    for _ in range(5):
        assert [record.best_val_accuracy for record in store.list()] == [record.best_val_accuracy for record in first]
    assert len(history_reads) == 3  # Draw and Home list runs on every rerun: unchanged histories are not parsed again
    store.write_history(run_ids[0], {"epochs": [{"epoch": 1, "val_accuracy": 0.5}], "batches": []})
    assert store.load(run_ids[0]).epochs_done == 1 and len(history_reads) == 4


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_run_files_honour_the_umask(tmp_path, umask):
    from tests.conftest import save_fake_run

    previous = os.umask(umask)
    try:
        store = RunStore(tmp_path)
        run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
        store.write_evaluation(run_id, {"test_accuracy": 0.9}, predictions=np.zeros(5, np.uint8))
    finally:
        os.umask(previous)
    modes = {path.name: path.stat().st_mode & 0o777 for path in store.folder(run_id).iterdir()}
    assert set(modes) >= {"spec.json", "status.json", "history.json", "evaluation.json", "test_predictions.npy"}
    assert set(modes.values()) == {0o666 & ~umask}


def test_temporary_files_a_crash_left_are_removed_at_start_and_never_read(tmp_path):
    from mnistviz.training.jobs import get_manager
    from tests.conftest import save_fake_run

    store = RunStore(tmp_path)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    folder = store.folder(run_id)
    stale = [folder / ".status.json.abc123.tmp", folder / ".model.xyz.keras", folder / ".pred.q1.npy"]
    for path in stale:
        path.write_text("half a file")
        os.utime(path, (1_000_000, 1_000_000))
    fresh = folder / ".history.json.new.tmp"  # a write in progress elsewhere: left alone
    fresh.write_text("{")
    assert store.load(run_id).status == "finished"  # none is read as data
    get_manager(tmp_path)  # a server or command starting on this folder
    assert not any(path.exists() for path in stale) and fresh.exists()
    assert store.load(run_id).status == "finished"


def test_an_old_unbounded_history_is_thinned_when_read(tmp_path):
    from mnistviz.runs.progress import MAX_BATCH_ROWS
    from tests.conftest import save_fake_run

    store = RunStore(tmp_path)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    rows = [
        {"epoch": 1, "step": n, "samples_seen": n, "seconds": 0.0, "loss": 1.0, "accuracy": 0.5}
        for n in range(1, 20_001)
    ]
    store.write_history(run_id, {"epochs": [], "batches": rows})
    batches = store.history(run_id)["batches"]
    assert MAX_BATCH_ROWS // 2 <= len(batches) <= MAX_BATCH_ROWS and batches[0]["step"] == 1


def test_a_history_of_running_means_from_an_earlier_version_is_read_as_each_batchs_own_values(tmp_path):
    from tests.conftest import save_fake_run

    store = RunStore(tmp_path)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    means = [2.0, 1.5, 1.0]  # running means of the own losses 2, 1 and 0
    rows = [
        {"epoch": 1, "step": n, "samples_seen": 10 * n, "seconds": 0.0, "loss": m, "accuracy": 0.5}
        for n, m in enumerate(means, start=1)
    ]
    store.write_history(run_id, {"epochs": [{"epoch": 1, "loss": 1.0, "samples": 30}], "batches": rows})
    history = store.history(run_id)
    assert history["batch_values"] == "per_batch"
    assert [row["loss"] for row in history["batches"]] == pytest.approx([2.0, 1.0, 0.0])


def test_a_history_claiming_to_hold_something_else_is_not_drawn(tmp_path):
    from tests.conftest import save_fake_run

    store = RunStore(tmp_path)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    store.write_history(run_id, {"epochs": [], "batches": [], "batch_values": "<b>lies</b>"})
    assert store.history(run_id)["batches"] == []
    with pytest.raises(MnistvizError, match="batch values"):
        runfiles.history({"batch_values": "<b>lies</b>"})
