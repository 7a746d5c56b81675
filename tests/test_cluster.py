"""Training on a Ray cluster on the loopback address: live progress, Stop, a killed worker, the CLI and a page.

The cluster is real (`ray start --head` with two cores); the runs are tiny and train on the synthetic
digits of `mnist_npz`, which the workers read through MNISTVIZ_DATA as a dashboard passes it on.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnistviz.cli import main
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training import jobs
from tests.conftest import open_page
from tests.ray_cluster import LOOPBACK, local_cluster

os.environ.update(LOOPBACK)  # read when Ray is imported: without them it connects to the machine's address
ray = pytest.importorskip("ray", reason="the cluster mode's requirements (requirements-cluster.txt)")
from mnistviz.training.ray_executor import RayTasks  # noqa: E402 - only with Ray installed

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
            manager = jobs.JobManager(RunStore(folder / "runs"), RayTasks(address))
            try:
                yield manager, address
            finally:
                manager.shut_down()
                ray.shutdown()


def wait_for(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def status_file(manager, run_id: str) -> dict:
    return json.loads((manager.store.folder(run_id) / "status.json").read_text())


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
    assert record.epochs_done >= 1 and record.has_model and "training process stopped" in record.error


@pytest.fixture
def dashboard_on_the_cluster(cluster, monkeypatch):
    """This process' dashboard (and command line) configured for the cluster, as MNISTVIZ_RAY_ADDRESS does."""
    manager, address = cluster
    monkeypatch.setenv("MNISTVIZ_RAY_ADDRESS", address)
    monkeypatch.setenv("MNISTVIZ_RUNS", str(manager.store.root))
    monkeypatch.setattr(jobs, "_managers", {})
    yield manager
    for made in jobs._managers.values():
        made.shut_down()


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
        "from mnistviz.training.jobs import get_manager\n"
        "print(type(get_manager()).__name__, 'ray' in sys.modules)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "MNISTVIZ_RAY_ADDRESS"}
    environment |= {"MNISTVIZ_RUNS": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    shown = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[-2:] == ["JobManager", "False"]
