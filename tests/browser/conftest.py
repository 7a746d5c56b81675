"""What every browser test shares: tiny trained runs, a served dashboard, and one headless Chromium."""

from pathlib import Path

import pytest

from mnistviz.errors import MnistvizError
from mnistviz.learning import data
from mnistviz.learning.spec import RunSpec
from tests.conftest import synthetic_mnist
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


def require_mnist() -> None:
    """Skip unless real MNIST loads without a download (the served pages train and test on it)."""
    try:
        data.load_mnist()
    except MnistvizError as error:
        pytest.skip(f"needs MNIST (set MNISTVIZ_DATA): {error}")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each test opens its own pages (or contexts) in it."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
