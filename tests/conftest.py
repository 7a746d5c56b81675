"""Shared fixtures: small synthetic MNIST-like data, and a private runs directory per test."""

import fcntl
import os
import re
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from mnistviz.learning import data


def pytest_collection_modifyitems(items):
    """Files that train on real MNIST go first, then those that drive a browser, then the rest.

    pytest-xdist hands whole files to its workers in this order (`--no-loadscope-reorder` in
    pyproject.toml); by default it hands out the files with the most tests first, which left the
    long one-test files (a benchmark, ten browsers drawing) to start last on one core while the
    other sat idle.
    """
    items.sort(key=lambda item: (not item.get_closest_marker("integration"), not item.get_closest_marker("browser")))


def synthetic_mnist(n_train: int = 600, n_test: int = 200, seed: int = 0) -> data.Mnist:
    """Digits that are learnable: label k is a bright 6x6 square at the k-th place of a grid."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            row, col = 4 + 7 * (label // 4), 4 + 6 * (label % 4)
            images[i, row : row + 6, col : col + 5] = 255
        return images, labels

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return data.Mnist(x_train, y_train, x_test, y_test)


@pytest.fixture
def tiny_mnist():
    return synthetic_mnist()


@pytest.fixture(scope="session")
def mnist_npz(tmp_path_factory):
    """A full-size MNIST file in Keras' layout holding the synthetic squares: for subprocesses and pages."""
    mnist = synthetic_mnist(n_train=60000, n_test=10000)
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(path, x_train=mnist.x_train, y_train=mnist.y_train, x_test=mnist.x_test, y_test=mnist.y_test)
    return path


@pytest.fixture(autouse=True)
def fresh_passcode_guard(monkeypatch):
    """Each test starts with no wrong guesses on record (the guard is process-wide, as on a server)."""
    from mnistviz.runs import access

    monkeypatch.setattr(access, "GUARD", access.PasscodeGuard())


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    monkeypatch.setenv("MNISTVIZ_RUNS", str(folder))
    return folder


@pytest.fixture
def train_in_threads(monkeypatch):
    """Runs queued by a dashboard train in threads of this process, where a test's replaced data or training applies."""
    from mnistviz.training import jobs
    from tests.threaded import ThreadExecutor

    monkeypatch.setattr(jobs, "LocalProcesses", ThreadExecutor)


@pytest.fixture
def synthetic_variants(monkeypatch, tiny_mnist, train_in_threads):
    """Make training read the synthetic data instead of MNIST."""
    variants = {name: data.make_variant(tiny_mnist, name) for name in data.VARIANTS}
    monkeypatch.setattr(data, "load_variant", lambda name, path=None: variants[name])
    return variants


def shown(markdown: str) -> str:
    """The text a Markdown element shows: mnistviz.show.text escapes every message it puts on a page."""
    from mnistviz.show.text import ZERO_WIDTH_SPACE

    return re.sub(r"\\(.)", r"\1", markdown).replace(ZERO_WIDTH_SPACE, "")


def save_fake_run(store, spec, val_accuracy: float, test_accuracy: float, epochs: int = 2) -> str:
    """A finished run on disk, written as training would, without training (no model file)."""
    run_id = store.create(spec)
    rows = [
        {
            "epoch": e + 1,
            "loss": 0.5 / (e + 1),
            "accuracy": val_accuracy - 0.01,
            "val_loss": 0.6 / (e + 1),
            "val_accuracy": val_accuracy - 0.02 * (epochs - 1 - e),
            "seconds": 1.5,
            "samples": spec.train_size,
            "complete": True,
        }
        for e in range(epochs)
    ]
    batches = [{"epoch": 1, "step": 1, "samples_seen": spec.batch_size, "seconds": 0.1, "loss": 2.0, "accuracy": 0.2}]
    store.write_history(run_id, {"epochs": rows, "batches": batches})
    store.write_evaluation(run_id, {"test_accuracy": test_accuracy, "params": 1000, "test_size": 5000})
    store.write_status(run_id, "finished", started=1.0, ended=2.0)
    return run_id


def open_page(page: str = "app.py", query: dict | None = None, secrets: dict | None = None):
    """The app under AppTest opened straight on `page` (with `query` in the address), as a deep link opens it.

    The page is chosen before the first run, so only that page's script runs (Home would load MNIST and
    build the offset set first). Fails on any exception shown.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app.py", default_timeout=120)
    at.secrets.update(secrets or {})
    if page != "app.py":
        at.switch_page(page)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


MEASURED_DIGITS = 50  # synthetic test digits the Lab's runs are measured on: what its pages show, in a quarter the time


def shared_folder(tmp_path_factory, name: str, make) -> Path:
    """A folder `make(folder)` fills once per test session, shared by every test process (pytest-xdist workers).

    The first process to ask makes it while the others wait on a lock; each user copies what it changes.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.is_dir():
            partial = root / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            make(partial)
            partial.rename(folder)
    return folder


def measured_lab_grid(tmp_path_factory) -> Path:
    """A runs folder with the Shift Lab grid's six centered runs: untrained models of its shapes (their seed's
    weights), measured as the Lab measures them on MEASURED_DIGITS synthetic test digits. Made once per session:
    the Lab's page tests and its browser test read the same six runs. Copy it with `shutil.copy2`, which keeps the
    model files' times, so the measures stay cached."""
    from mnistviz.analysis import lab, measures, shift_maps
    from mnistviz.learning.models import model_for
    from mnistviz.runs.store import RunStore

    def make(folder: Path) -> None:
        store = RunStore(folder)
        variants = {name: data.make_variant(synthetic_mnist(n_test=MEASURED_DIGITS), name) for name in data.VARIANTS}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
            for cell in lab.grid():
                if not cell.augment:
                    run_id = save_fake_run(store, cell.spec, 0.9, 0.9)
                    store.save_model(run_id, model_for(cell.spec))
                    measures.compute_measures(store, run_id)
                    shift_maps.compute_shift_map(store, run_id, 2, 300)

    return shared_folder(tmp_path_factory, "lab-grid", make)
