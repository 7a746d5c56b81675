"""Safe by default: the served app keeps XSRF protection, and a model file cannot run code when loaded."""

import subprocess
import sys
from pathlib import Path

import keras

from mnistviz.analysis import predictor
from mnistviz.learning.spec import RunSpec
from mnistviz.runs.store import RunStore
from tests.conftest import save_fake_run

REPO = Path(__file__).resolve().parents[1]


def test_xsrf_protection_stays_on_for_the_served_app():
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "\nenableXsrfProtection = true\n" in shown


def test_a_model_file_with_code_in_it_is_refused_not_run(runs_dir):
    store = RunStore(runs_dir)
    run_id = save_fake_run(store, RunSpec("mlp", "centered"), 0.9, 0.9)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Flatten()])
    model.save(store.folder(run_id) / "model.keras")  # a Lambda layer is Python bytecode in the file
    loaded, skipped = predictor.saved_models(store)
    assert not loaded
    assert [run.run_id for run in skipped] == [run_id] and "safe_mode" in skipped[0].reason
