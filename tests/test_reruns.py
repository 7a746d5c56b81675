"""A page rerun must leave Keras alone: a run trains in another thread while the pages rerun every second."""

import inspect

import keras
from keras.src.backend.common import global_state
from streamlit.runtime.scriptrunner import script_runner

from mnistviz import ui


def test_the_installed_streamlit_clears_the_keras_session_after_every_script_run():
    """The problem this guards against, in the Streamlit we run: its after-run hook calls clear_session."""
    assert "clear_session()" in inspect.getsource(script_runner)
    assert hasattr(script_runner, "_clean_problem_modules")


def test_after_keep_keras_state_a_rerun_no_longer_clears_the_session(monkeypatch):
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: keras.backend.clear_session())  # Streamlit's
    ui.keep_keras_state_between_reruns()
    global_state.set_global_attribute("mnistviz_probe", "kept")
    name_before = keras.layers.Dense(1).name

    script_runner._clean_problem_modules()  # what Streamlit calls after every script run

    assert global_state.get_global_attribute("mnistviz_probe") == "kept"
    assert keras.layers.Dense(1).name != name_before  # a cleared session would reuse the layer name
