"""Training on a Ray cluster on the loopback address: live progress, Stop, a killed worker, a shared queue.

The cluster is real (`ray start --head` with two cores); the runs are tiny and train on the synthetic
digits of `mnist_npz`, which the workers read through MNISTVIZ_DATA as a dashboard passes it on.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import pytest

from mnistviz import jobs
from mnistviz.cli import main
from mnistviz.errors import MnistvizError
from mnistviz.spec import RunSpec
from mnistviz.store import RunStore
from tests.conftest import open_page
from tests.ray_cluster import LOOPBACK, local_cluster

os.environ.update(LOOPBACK)  # read when Ray is imported: without them it connects to the machine's address
ray = pytest.importorskip("ray", reason="the cluster mode's requirements (requirements-cluster.txt)")
from mnistviz.cluster import ClusterJobManager  # noqa: E402 - only with Ray installed
from mnistviz.cluster_queue import Entry, RecordedProgress, queue_name, replay  # noqa: E402
from mnistviz.progress import RunProgress  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LONG = RunSpec("mlp", "centered", epochs=60, batch_size=50, train_size=6000)  # a minute or more: time to act


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, mnist_npz):
    """A two-core loopback cluster, and a dashboard's job manager on a runs folder its workers share."""
    folder = tmp_path_factory.mktemp("cluster")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"MNISTVIZ_DATA": str(mnist_npz), "TF_CPP_MIN_LOG_LEVEL": "2"}.items():
            patch.setenv(name, value)
        with local_cluster(folder / "ray-head.log", cpus=2) as address:
            manager = ClusterJobManager(RunStore(folder / "runs"), address)
            try:
                yield manager, address
            finally:
                manager.close()
                ray.shutdown()


def wait_for(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def status_file(manager, run_id: str) -> dict:
    return json.loads((manager.store.folder(run_id) / "status.json").read_text())


def test_a_workers_progress_replays_into_the_same_progress_on_a_dashboard():
    worker, dashboard = RecordedProgress("r", 2), RunProgress("r", 2)
    worker.start(steps_per_epoch=2, check_samples=100)
    worker.record_batch(1, 50, 2.0, 0.2)
    worker.record_batch(2, 50, 1.0, 0.6)
    worker.record_epoch({"epoch": 1, "loss": 1.5, "accuracy": 0.4, "val_accuracy": 0.5})
    delays = replay(dashboard, worker.take_changes())
    assert len(delays) == 2 and all(0 <= delay < 5 for delay in delays)
    worker.finish("finished", test_accuracy=0.9)
    replay(dashboard, worker.take_changes())
    assert worker.take_changes() == []  # each change is sent once
    mine, theirs = worker.snapshot(), dashboard.snapshot()
    for name in ("status", "epoch", "step", "samples_seen", "epochs", "test_accuracy", "steps_per_epoch"):
        assert getattr(theirs, name) == getattr(mine, name), name
    assert [row["loss"] for row in theirs.batches] == [2.0, 1.0]


def test_a_run_of_many_tiny_batches_sends_only_the_rows_it_keeps(monkeypatch):
    monkeypatch.setattr("mnistviz.progress.MAX_BATCH_ROWS", 8)
    worker, dashboard = RecordedProgress("r", 1), RunProgress("r", 1)
    worker.start(steps_per_epoch=1000)
    sent = 0
    for step in range(1, 1001):  # a student's batch size of 1
        worker.record_batch(step, 1, 1.0 / step, 0.5)
        if step % 100 == 0:
            changes = worker.take_changes()
            sent += len(changes)
            replay(dashboard, changes)
    mine, theirs = worker.snapshot(), dashboard.snapshot()
    assert sent < 100  # not a thousand: the actor's memory is bounded whatever the batch size
    assert theirs.batches == mine.batches and len(theirs.batches) <= 8
    assert (theirs.step, theirs.samples_seen) == (mine.step, mine.samples_seen) == (1000, 1000)


def test_a_dashboard_forgets_the_finished_runs_the_queue_forgot():
    manager = ClusterJobManager.__new__(ClusterJobManager)  # its bookkeeping alone, with no cluster behind it
    manager._lock, manager._polling = threading.Lock(), threading.Lock()
    manager._jobs, manager._cursors, manager._active, manager._positions = {}, {}, [], {}
    manager.delays = deque()
    spec = RunSpec("mlp", "centered").to_dict()
    entries = [Entry(f"run-{n}", spec, "a", state="done", status="finished") for n in range(3)]
    entries.append(Entry("run-3", spec, "a"))  # still waiting
    reported = list(entries)
    manager._call = lambda method, cursors: [entry.view(cursors.get(entry.run_id, 0), None) for entry in reported]
    manager._poll()
    assert set(manager._jobs) == {"run-0", "run-1", "run-2", "run-3"}
    reported = entries[1:]  # the queue keeps only its newest finished runs
    manager._poll()
    assert manager.get("run-0") is None and "run-0" not in manager._cursors  # its record is on disk
    assert manager.get("run-1").done.is_set() and not manager.get("run-3").done.is_set()
    reported = []  # a waiting run the queue does not mention (yet) is not forgotten
    manager._poll()
    assert manager.get("run-3") is not None


def test_a_run_trained_on_the_cluster_shows_live_and_ends_like_a_local_one(cluster):
    manager, _ = cluster
    job = manager.submit(RunSpec("mlp", "centered", epochs=2, batch_size=50, train_size=6000), owner="a")
    seen = set()
    while not job.done.wait(0.1):
        snapshot = job.snapshot()
        if snapshot.status == "running" and snapshot.batches:
            seen.add(snapshot.samples_seen)
    assert len(seen) >= 3  # the dashboard saw the curve grow while the worker trained
    record = manager.store.load(job.run_id)
    assert record.status == "finished" and record.epochs_done == 2 and record.has_model
    assert record.test_accuracy > 0.5
    written = status_file(manager, job.run_id)
    assert written["executor"] == "ray" and written["pid"] != os.getpid()  # trained in a worker process
    assert len(manager.store.history(job.run_id)["batches"]) == 240


def test_stop_ends_a_run_training_on_the_cluster_and_keeps_what_it_learned(cluster):
    manager, _ = cluster
    job = manager.submit(LONG, owner="a")
    wait_for(lambda: job.snapshot().epoch >= 1, what="the first epoch")
    assert manager.stop(job.run_id)
    assert job.done.wait(60)
    record = manager.store.load(job.run_id)
    assert record.status == "stopped" and 1 <= record.epochs_done < LONG.epochs and record.has_model


def test_a_killed_worker_leaves_its_run_interrupted_with_its_saved_epochs(cluster):
    manager, _ = cluster
    job = manager.submit(LONG, owner="a")
    wait_for(lambda: manager.store.load(job.run_id).epochs_done >= 1, what="a saved epoch")
    os.kill(status_file(manager, job.run_id)["pid"], signal.SIGKILL)
    assert job.done.wait(60)
    wait_for(lambda: manager.store.load(job.run_id).status == "interrupted", 30, "the run marked interrupted")
    record = manager.store.load(job.run_id)
    assert record.epochs_done >= 1 and record.has_model and "worker" in record.error


def test_two_dashboards_share_the_clusters_queue_and_never_train_a_run_twice(cluster, tmp_path):
    first, address = cluster
    second = ClusterJobManager(first.store, address)  # another dashboard server on the same cluster and folder
    before = len(first.store.list())
    running = [
        first.submit(RunSpec("mlp", "centered", epochs=60, batch_size=50, train_size=6000, seed=s), owner="a")
        for s in (1, 2)
    ]
    waiting = first.submit(RunSpec("mlp", "offset", epochs=1, batch_size=50, train_size=600), owner="a")
    try:
        joined = second.submit(waiting.spec, owner="b", reuse=True)
        assert joined.run_id == waiting.run_id  # the same run, not a second training
        assert second.queue_position(waiting.run_id) == first.queue_position(waiting.run_id) == 1
        assert [job.run_id for job in second.active()] == [job.run_id for job in first.active()]
        wait_for(lambda: first.get(waiting.run_id).owners == {"a", "b"}, 5, "the first dashboard to see who joined")
        elsewhere = ClusterJobManager(RunStore(tmp_path / "other-runs"), address)  # another folder, another queue
        assert elsewhere.active() == [] and elsewhere.get(waiting.run_id) is None
        elsewhere.close()
        assert len(first.store.list()) == before + 3
    finally:
        for job in [*running, waiting]:
            second.stop(job.run_id)
        for job in [*running, waiting]:
            assert first.wait(job.run_id, 60)
        second.close()


def test_a_lost_queue_is_said_and_nothing_waiting_is_lost(cluster, tmp_path):
    _, address = cluster
    manager = ClusterJobManager(RunStore(tmp_path / "runs"), address, cpus_per_job=2)  # one run at a time
    manager.submit(LONG, owner="a")
    waiting = manager.submit(RunSpec("mlp", "offset", epochs=1, batch_size=50, train_size=600), owner="b")
    assert manager.queue_position(waiting.run_id) == 1
    ray.kill(ray.get_actor(queue_name(str((tmp_path / "runs").resolve()))))  # the queue's node is gone
    try:
        with pytest.raises(MnistvizError, match="cannot be reached"):
            manager.submit(RunSpec("cnn", "centered"), owner="c")
        assert "queued again when the dashboard restarts" in manager.problem
        assert manager.store.load(waiting.run_id).status == "queued"  # still there, still waiting
        assert len(manager.store.list()) == 2  # the refused request left no run behind
    finally:
        manager.close()
    restarted = ClusterJobManager(RunStore(tmp_path / "runs"), address, cpus_per_job=2)  # a new queue for the folder
    requeued = []
    try:
        requeued = restarted.requeue_abandoned()  # the long run too, if its worker had not started yet
        assert waiting.run_id in requeued
        assert restarted.get(waiting.run_id).owners == {"b"}  # queued again, it is still the student's to stop
    finally:
        for run_id in requeued:  # free the cluster's cores for the next test
            restarted.stop(run_id)
        for run_id in requeued:
            restarted.wait(run_id, 60)
        restarted.close()


@pytest.fixture
def dashboard_on_the_cluster(cluster, monkeypatch):
    """This process' dashboard (and command line) configured for the cluster, as MNISTVIZ_RAY_ADDRESS does."""
    manager, address = cluster
    monkeypatch.setenv("MNISTVIZ_RAY_ADDRESS", address)
    monkeypatch.setenv("MNISTVIZ_RUNS", str(manager.store.root))
    monkeypatch.setattr(jobs, "_managers", {})
    yield manager
    for made in jobs._managers.values():
        made.close()


def test_the_command_line_and_the_train_page_work_through_the_cluster(dashboard_on_the_cluster, capsys):
    argv = ["train", "--arch", "mlp", "--data", "centered", "--epochs", "1", "--train-size", "600"]
    assert main([*argv, "--batch-size", "50", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "finished" and summary["executor"] == "ray" and summary["test_accuracy"] > 0.5
    at = open_page("pages/train.py", query={"run": summary["run_id"]})
    assert any("Trained on the Ray cluster" in caption.value for caption in at.caption)
    assert [metric.label for metric in at.metric][:3] == ["Test accuracy", "Best validation accuracy", "Epochs"]
    assert at.metric[0].value == f"{summary['test_accuracy']:.2%}"


def test_without_a_cluster_address_ray_is_never_imported(tmp_path):
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "AppTest.from_file('app.py', default_timeout=60).run()\n"
        "from mnistviz.jobs import get_manager\n"
        "print(type(get_manager()).__name__, 'ray' in sys.modules)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "MNISTVIZ_RAY_ADDRESS"}
    environment |= {"MNISTVIZ_RUNS": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    shown = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[-2:] == ["JobManager", "False"]
