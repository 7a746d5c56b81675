"""The only part of mnistviz that imports Streamlit: what every page shares.

`page_setup` first on every page (page config, sidebar, teacher panel, the Join panel when asked);
`manager` and `session_id` for the process-wide job queue; `refresh_while` for "poll until done,
then rerun once"; `cross_matrix_section` for the 2x2 matrix Home and Compare both show; `chart` for
every figure (drawn larger in presentation mode); `scroll_into_view` to show what a button made;
`drawing_canvas` and `sent_drawing` for Draw's canvas; `forged_choices` to refuse a choice no widget offers.
"""

from mnistviz.ui.canvas import drawing_canvas, sent_drawing
from mnistviz.ui.forms import forged_choices
from mnistviz.ui.live import refresh_while
from mnistviz.ui.sections import cross_matrix_section
from mnistviz.ui.session import (
    manager,
    queued_message,
    session_access,
    session_id,
    session_owner,
    show_error,
    submit,
)
from mnistviz.ui.setup import PAGES, page_setup
from mnistviz.ui.style import chart, presentation_mode, scroll_into_view

__all__ = [
    "PAGES",
    "chart",
    "cross_matrix_section",
    "drawing_canvas",
    "forged_choices",
    "manager",
    "page_setup",
    "presentation_mode",
    "refresh_while",
    "session_access",
    "session_id",
    "scroll_into_view",
    "session_owner",
    "show_error",
    "sent_drawing",
    "submit",
    "queued_message",
]
