"""What every page does first: page config, the sidebar of pages, the teacher panel, the Join panel when asked.

The pages live in `pages/` beside `app.py` (Home), in Streamlit's folder mode: a link to any page,
even the first request after the server starts, runs that page's own script, so each one calls
`page_setup` itself. Streamlit's automatic menu is off (`client.showSidebarNavigation = false` in
.streamlit/config.toml); this sidebar of `st.page_link`s, with icons, replaces it.
"""

import gc
import threading

import streamlit as st

from mnistviz.runs.access import Access
from mnistviz.ui.join import join_button, join_panel_if_asked
from mnistviz.ui.session import OWNER_COOKIE, owner_cookie, owner_token
from mnistviz.ui.style import apply_stylesheet, presentation_mode, presentation_toggle
from mnistviz.ui.teacher import announce_teacher_link, teacher_panel

PAGES = (  # (script, title, icon): the sidebar, in the lesson's order
    ("app.py", "Home", ":material/home:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    ("pages/draw.py", "Draw", ":material/draw:"),
    ("pages/lab.py", "Shift Lab", ":material/science:"),
)


def page_setup(title: str) -> Access:
    """The start of every page (call it first); returns what this browser session may do."""
    presentation = presentation_mode()
    st.set_page_config(
        page_title=f"{title} · mnistviz",
        page_icon=":material/grid_on:",
        layout="wide",
        initial_sidebar_state="collapsed" if presentation else "auto",
    )
    apply_stylesheet(presentation)
    if not _froze:
        with st.spinner("Starting TensorFlow: the first page after the server starts takes a few seconds..."):
            freeze_what_the_imports_made()
    announce_teacher_link()
    token = owner_token()
    with st.sidebar:
        for script, label, icon in PAGES:
            st.page_link(script, label=label, icon=icon)
        join_button()
        presentation_toggle()
        rights = teacher_panel()
        if owner_cookie() != token:  # give the browser its token, for the sessions after a reload
            st.html(
                f"<script>document.cookie = '{OWNER_COOKIE}={token}; path=/; max-age=31536000; SameSite=Strict';"
                "</script>",
                unsafe_allow_javascript=True,
            )
    join_panel_if_asked()
    return rights


_frozen = threading.Lock()
_froze = False


def freeze_what_the_imports_made() -> None:
    """Once per process: load the libraries the pages use, then hide what they made from the collector.

    Streamlit runs a full garbage collection after every script run, and Keras' `clear_session` (which
    Streamlit calls too) another: with TensorFlow, Keras, pandas and plotly loaded, each scanned about
    435,000 objects and took 0.2 s, twice per rerun of every session. `gc.freeze` moves the objects alive
    now (modules, classes, the loaded libraries) out of the collector's sight; a collection then takes a
    millisecond. Garbage is collected first, so nothing freed is kept.
    """
    global _froze
    with _frozen:
        if not _froze:
            import keras  # TensorFlow, for Draw's predictions and the shift maps
            import pandas  # noqa: F401
            import plotly.graph_objects  # noqa: F401

            keep_models_warm(keras)
            gc.collect()
            gc.freeze()
            _froze = True


def keep_models_warm(keras) -> None:
    """Make `keras.backend.clear_session` do nothing in the dashboard's process.

    Streamlit calls that public Keras function after every script run, to reset Keras between reruns
    of a script that builds models. The dashboard builds none: it holds the saved models every
    session predicts with, and each clear dropped TensorFlow's kernels under them, so the next
    answers on Draw took 60-80 ms longer (bench/draw_steps.py). Keras' own code calls its internal
    function, not this attribute, and no code of mnistviz calls it.
    """
    keras.backend.clear_session = _models_stay_warm


def _models_stay_warm(free_memory: bool = True) -> None:
    """What `keras.backend.clear_session` does in the dashboard's process: nothing."""
