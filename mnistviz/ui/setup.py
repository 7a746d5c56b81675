"""What every page does first: page config, the sidebar of pages, the teacher panel, the TensorFlow bound.

The pages live in `pages/` beside `app.py` (Home), in Streamlit's folder mode: a link to any page,
even the first request after the server starts, runs that page's own script, so each one calls
`page_setup` itself. Streamlit's automatic menu is off (`client.showSidebarNavigation = false` in
.streamlit/config.toml); this sidebar of `st.page_link`s, with icons, replaces it.
"""

import streamlit as st

from mnistviz import jobs
from mnistviz.access import Access
from mnistviz.ui.session import OWNER_COOKIE, owner_cookie, owner_token
from mnistviz.ui.style import apply_stylesheet, presentation_mode, presentation_toggle
from mnistviz.ui.teacher import teacher_panel

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
    with st.spinner("Starting TensorFlow: the first page after the server starts takes a few seconds..."):
        jobs.bound_tensorflow_threads()  # before TensorFlow first runs: training must leave the pages a core
    keep_keras_state_between_reruns()  # or a watched run trains many times slower
    token = owner_token()
    with st.sidebar:
        for script, label, icon in PAGES:
            st.page_link(script, label=label, icon=icon)
        presentation_toggle()
        rights = teacher_panel()
        if owner_cookie() != token:  # give the browser its token, for the sessions after a reload
            st.html(
                f"<script>document.cookie = '{OWNER_COOKIE}={token}; path=/; max-age=31536000; SameSite=Strict';"
                "</script>",
                unsafe_allow_javascript=True,
            )
        return rights


def keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run, once per process.

    Streamlit does that to reset Keras between reruns. In this server a run trains in a worker thread while
    the pages rerun every second to show its progress, and each clear drops TensorFlow's kernel cache under
    that training and runs a full garbage collection: a watched run trained many times slower than one
    nobody watched. mnistviz keeps no Keras state tied to a rerun, so there is nothing to reset.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _keep_problem_modules


def _keep_problem_modules() -> None:
    """What Streamlit runs after each script run instead of its module cleanup: nothing."""
