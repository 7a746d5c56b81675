"""What every browser test shares: tiny trained runs, a served dashboard, and one headless Chromium."""

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning import data
from mnistviz.learning.spec import RunSpec
from tests.conftest import shared_folder, synthetic_mnist
from tests.server import CHROMIUM, CHROMIUM_ARGS
from tests.threaded import ThreadExecutor


def train_runs(root: Path, specs: list[RunSpec]) -> list[str]:
    """Train `specs` one after the other on synthetic digits into the runs folder `root`; their run ids."""
    from mnistviz.runs.store import RunStore
    from mnistviz.training.jobs import JobManager  # TensorFlow loads only when a test trains

    variants = {name: data.make_variant(synthetic_mnist(), name) for name in data.VARIANTS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "load_variant", lambda name, path=None: variants[name])
        manager = JobManager(RunStore(root), ThreadExecutor())  # the patched data applies in this process
        jobs = [manager.submit(spec) for spec in specs]
        for job in jobs:
            assert manager.wait(job.run_id, timeout=300)
            assert manager.store.load(job.run_id).status == "finished"
    return [job.run_id for job in jobs]


def trained_runs(tmp_path_factory, root: Path, specs: list[RunSpec]) -> list[str]:
    """`specs` trained on synthetic digits, copied into the runs folder `root`; their run ids.

    Each spec trains once per test session (tests/conftest.py `shared_folder`): the browser files ask for the same
    tiny runs. copy2 keeps the model files' times, which the cached results are checked against.
    """
    ids = []
    for spec in specs:
        key = hashlib.sha1(json.dumps(dataclasses.asdict(spec), sort_keys=True).encode()).hexdigest()[:12]
        made = shared_folder(tmp_path_factory, f"trained-{key}", lambda folder, spec=spec: train_runs(folder, [spec]))
        (run,) = made.iterdir()
        shutil.copytree(run, root / run.name, copy_function=shutil.copy2)
        ids.append(run.name)
    return ids


def require_mnist() -> None:
    """Skip unless real MNIST loads without a download (the served pages train and test on it)."""
    try:
        data.load_mnist()
    except MnistvizError as error:
        pytest.skip(f"needs MNIST (set MNISTVIZ_DATA): {error}")


PATIENCE = 90_000  # ms a browser action or check may wait: a fresh server's first page imports TensorFlow


class PatientBrowser:
    """Chromium whose pages wait up to PATIENCE for an action (Playwright's default, 30 s, is too short on
    a shared 2-core machine running the test files side by side)."""

    def __init__(self, chromium):
        self._chromium = chromium

    def new_context(self, **options):
        context = self._chromium.new_context(**options)
        context.set_default_timeout(PATIENCE)
        return context

    def new_page(self, **options):
        page = self._chromium.new_page(**options)
        page.set_default_timeout(PATIENCE)
        return page

    def __getattr__(self, name):
        return getattr(self._chromium, name)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test opens its own pages (or contexts) in it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.sync_api")
    playwright_api.expect.set_options(timeout=PATIENCE)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield PatientBrowser(chromium)
        finally:
            chromium.close()
