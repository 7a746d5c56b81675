"""Training outside the dashboard's process: a child process per run, which costs only its run when it dies."""

import ast
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from mnistviz.training import executors, worker
from mnistviz.training.executors import LocalProcesses
from mnistviz.training.jobs import JobManager

REPO = Path(__file__).resolve().parents[1]
LONG = RunSpec("mlp", "centered", epochs=60, batch_size=50, train_size=6000)  # a minute or more: time to act
SHORT = RunSpec("mlp", "offset", epochs=1, batch_size=50, train_size=600)


def wait_for(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def status_file(store: RunStore, run_id: str) -> dict:
    return json.loads((store.folder(run_id) / "status.json").read_text())


@pytest.fixture
def data(mnist_npz, monkeypatch):
    monkeypatch.setenv("MNISTVIZ_DATA", str(mnist_npz))  # the children read it as the server has it


def test_a_killed_training_process_costs_only_its_run_and_the_queue_goes_on(tmp_path, data):
    manager = JobManager(RunStore(tmp_path))
    try:
        doomed, after = manager.submit(LONG, owner="a"), manager.submit(SHORT, owner="b")
        wait_for(lambda: manager.store.load(doomed.run_id).epochs_done >= 1, what="a saved epoch")
        wait_for(lambda: doomed.snapshot().samples_seen > 0, 10, "its progress on the dashboard")
        trainer = status_file(manager.store, doomed.run_id)["pid"]
        assert trainer != os.getpid()  # it trains in a process of its own, which status.json names
        os.kill(trainer, signal.SIGKILL)
        assert doomed.done.wait(10)
        record = manager.store.load(doomed.run_id)
        assert record.status == "interrupted" and record.epochs_done >= 1 and record.has_model
        assert "killed by signal 9" in record.error and doomed.snapshot().status == "interrupted"
        assert manager.wait(after.run_id, 120)  # the next run in the queue trained
        assert manager.store.load(after.run_id).status == "finished"
    finally:
        manager.shut_down()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_runs_fork_from_one_warm_process_and_a_killed_warm_process_costs_no_run(tmp_path, data):
    manager = JobManager(RunStore(tmp_path), LocalProcesses(slots=2))
    try:
        first, second = manager.submit(LONG, owner="a"), manager.submit(dataclasses.replace(LONG, seed=1), owner="b")
        for job in (first, second):
            wait_for(lambda job=job: job.snapshot().samples_seen > 0, what="both runs training")
        trainers = [status_file(manager.store, job.run_id)["pid"] for job in (first, second)]
        (warm,) = {parent_of(pid) for pid in trainers}  # both forked from the one warm process
        assert warm != os.getpid() and warm not in trainers
        os.kill(warm, signal.SIGKILL)  # out of memory, say: the runs it forked train on
        assert manager.stop(first.run_id) and first.done.wait(60)
        assert manager.store.load(first.run_id).status == "stopped"
        after = manager.submit(SHORT)  # a new warm process starts it
        assert manager.wait(after.run_id, 120) and manager.store.load(after.run_id).status == "finished"
        assert second.snapshot().status == "running"  # meanwhile the other trained on, and stops as asked
        assert manager.stop(second.run_id) and second.done.wait(60)
        assert manager.store.load(second.run_id).status == "stopped"
    finally:
        manager.shut_down()


def test_what_else_the_warm_process_prints_is_never_taken_for_an_answer():
    assert executors._message(b'{"started": 41}\n') == {"started": 41}
    for stray in (b"oneDNN custom operations are on\n", b"[1, 2]\n", b"\n", b"\xff\xfe\n"):
        assert executors._message(stray) == {}


def test_stop_reaches_the_training_process_and_it_keeps_what_it_learned(tmp_path, data):
    manager = JobManager(RunStore(tmp_path))
    try:
        job = manager.submit(LONG)
        wait_for(lambda: job.snapshot().epoch >= 1, what="the first epoch on the dashboard")
        assert manager.stop(job.run_id)
        assert job.done.wait(60)
        record = manager.store.load(job.run_id)
        assert record.status == "stopped" and 1 <= record.epochs_done < LONG.epochs and record.has_model
        assert job.snapshot().epochs == tuple(record.epochs)  # the dashboard followed every epoch it saved
    finally:
        manager.shut_down()


def test_when_the_dashboard_dies_its_training_process_stops_and_keeps_its_epochs(tmp_path, data):
    dashboard = (
        "import sys, time\n"
        "from mnistviz.training.jobs import JobManager\n"
        "from mnistviz.learning.spec import RunSpec\n"
        "from mnistviz.runs.store import RunStore\n"
        "manager = JobManager(RunStore(sys.argv[1]))\n"
        f"job = manager.submit(RunSpec.from_dict({LONG.to_dict()!r}))\n"
        "print(job.run_id, flush=True)\n"
        "time.sleep(600)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", dashboard, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        run_id = server.stdout.readline().strip()
        store = RunStore(tmp_path)
        wait_for(lambda: store.load(run_id).epochs_done >= 1, what="a saved epoch")
        server.kill()
        server.wait()
        wait_for(lambda: store.load(run_id).status == "interrupted", 60, "the run to end")
        wait_for(lambda: not worker_alive(store, run_id), 60, "its training process to exit")
    finally:
        server.kill()
    record = store.load(run_id)
    assert record.error == worker.PARENT_GONE and record.epochs_done >= 1 and record.has_model


def worker_alive(store: RunStore, run_id: str) -> bool:
    try:
        os.kill(status_file(store, run_id)["pid"], 0)
    except ProcessLookupError:
        return False
    return True


def test_a_training_process_bounds_tensorflows_threads_as_set():
    script = (
        "from mnistviz.training import worker\n"
        "worker.bound_threads()\n"
        "import tensorflow as tf\n"
        "print(tf.config.threading.get_intra_op_parallelism_threads())\n"
    )
    env = {**os.environ, "MNISTVIZ_TF_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    shown = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[-1] == "1"


def imports_of(path: Path) -> set[str]:
    """The mnistviz modules a module imports, anywhere in it (a function's late import included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mnistviz"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("mnistviz")}
    return found


def test_the_package_has_no_import_circle_and_never_reaches_into_streamlits_script_runner():
    package = REPO / "mnistviz"
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in package.rglob("*.py")
    }
    graph = {name: sorted(imports_of(path) & set(modules) - {name}) for name, path in modules.items()}

    def circle_from(start: str, path: list[str]) -> list[str] | None:
        for imported in graph[start]:
            if imported in path:
                return [*path[path.index(imported) :], imported]
            found = circle_from(imported, [*path, imported])
            if found:
                return found
        return None

    for name in graph:
        assert circle_from(name, [name]) is None, circle_from(name, [name])
    sources = [*package.rglob("*.py"), REPO / "app.py", *(REPO / "pages").glob("*.py"), *(REPO / "bench").glob("*.py")]
    assert not [str(path) for path in sources if "script_runner" in path.read_text()]
