"""A page's rerun leaves the dashboard's Keras state alone: the loaded models stay warm for the next answer."""

import keras

from tests.conftest import open_page


def test_a_rerun_no_longer_resets_keras(runs_dir):
    at = open_page("app.py")  # Streamlit calls keras.backend.clear_session() after every script run
    before = keras.layers.Dense(1).name
    at.run()
    after = keras.layers.Dense(1).name
    assert after != before  # Keras' layer counter went on: nothing was cleared between the two runs
