"""A page rerun must leave Keras alone: a run trains in another thread while the pages rerun every second."""

import keras
from keras.src.backend.common import global_state
from streamlit.runtime.scriptrunner import script_runner

from mnistviz import ui


def test_streamlit_no_longer_clears_the_keras_session_after_a_rerun(monkeypatch):
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    ui.keep_keras_state_between_reruns()
    global_state.set_global_attribute("mnistviz_probe", "kept")
    name_before = keras.layers.Dense(1).name

    script_runner._clean_problem_modules()  # what Streamlit calls after every script run

    assert global_state.get_global_attribute("mnistviz_probe") == "kept"
    assert keras.layers.Dense(1).name != name_before  # a cleared session would reuse the layer name


def test_without_it_streamlit_would_clear_the_session():
    global_state.set_global_attribute("mnistviz_probe", "kept")
    script_runner._clean_problem_modules()
    assert global_state.get_global_attribute("mnistviz_probe") is None
