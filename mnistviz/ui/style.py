"""How the pages fit every screen in a classroom: one stylesheet, a presentation mode, and charts drawn for it.

Streamlit lays out for a laptop; phones, tablets and projectors need more. Layout rules target only
containers the pages name with `key=` (Streamlit gives them the class `st-key-<key>`) and Streamlit's
own `data-testid`s, so a page that does not ask for a layout keeps Streamlit's:
- `grid-<name>`: its children are cards in as many columns of at least `--cell` px as fit;
- `split-<name>`: two panes side by side when there is room, one above the other when not;
- `draw-layout`: the canvas, the move controls under it, the answers, the other controls (the answers beside them
  when there is room).
Layouts query the width of the page's main column (CSS container queries), not the screen's: the
sidebar takes part of a screen.
"""

import plotly.graph_objects as go
import streamlit as st

from mnistviz.show import plots

PRESENT_PARAM = "present"  # ?present=1 in the address: a teacher bookmarks the projector view
PRESENT_ROOT_PX = 23  # the root font size in presentation mode: Streamlit's smallest text (0.875 rem) is 20 px

BASE = """
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; padding-bottom: 4rem; container-type: inline-size; }
div[class*="st-key-grid-"] { display: grid !important; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(min(var(--cell, 300px), 100%), 1fr)); }
div[class*="st-key-grid-"] > div { width: auto !important; min-width: 0; }
.st-key-grid-fields { --cell: 150px; gap: 0.25rem 1rem; }
.st-key-grid-answers { --cell: 245px; gap: 0.75rem; }
.st-key-grid-position-maps { --cell: 260px; }
.st-key-grid-flips, .st-key-grid-outcomes { --cell: 230px; gap: 0.75rem; }
.st-key-grid-reach { --cell: 240px; }
.st-key-grid-shift-maps { grid-template-columns: repeat(auto-fill, minmax(max(230px, calc(25% - 0.75rem)), 1fr)); }
div[class*="st-key-split-"] { display: grid !important; gap: 1.5rem; grid-template-columns: minmax(0, 1fr); }
div[class*="st-key-split-"] > div { width: auto !important; min-width: 0; }
@container (min-width: 860px) {
  div[class*="st-key-split-"] { grid-template-columns: minmax(340px, 2fr) minmax(0, 3fr); gap: 3rem; }
}
.st-key-draw-layout { display: grid !important; gap: 0.5rem 1.5rem; grid-template-columns: minmax(0, 1fr);
  grid-template-areas: "canvas" "move" "answers" "controls"; align-items: start; }
.st-key-draw-layout > div:has(> .st-key-draw-canvas) { grid-area: canvas; }
.st-key-draw-layout > div:has(> .st-key-draw-move) { grid-area: move; }
.st-key-draw-layout > div:has(> .st-key-draw-answers) { grid-area: answers; }
.st-key-draw-layout > div:has(> .st-key-draw-controls) { grid-area: controls; }
@container (min-width: 560px) {
  .st-key-draw-layout { grid-template-columns: 290px minmax(0, 1fr);
    grid-template-rows: auto auto 1fr; grid-template-areas: "canvas answers" "move answers" "controls answers"; }
  .st-key-draw-move, .st-key-draw-controls { max-width: 290px; }
}
"""

PRESENTATION = f"""
html {{ font-size: {PRESENT_ROOT_PX}px; }}
"""


def presentation_mode() -> bool:
    """Whether this session shows the projector view: the sidebar's toggle, first set from the address."""
    if "presentation" not in st.session_state:
        st.session_state["presentation"] = st.query_params.get(PRESENT_PARAM) == "1"
    return bool(st.session_state["presentation"])


def _remember_in_address() -> None:
    if st.session_state.get("presentation"):
        st.query_params[PRESENT_PARAM] = "1"
    else:
        st.query_params.pop(PRESENT_PARAM, None)


def presentation_toggle() -> None:
    """The sidebar's switch; the address follows it, so the view survives a reload and can be bookmarked."""
    st.toggle(
        "Presentation mode",
        key="presentation",
        on_change=_remember_in_address,
        help="For a projector: larger text, thicker lines, the sidebar folded away. "
        f"Add ?{PRESENT_PARAM}=1 to a page's address to open it this way.",
    )


def apply_stylesheet(presentation: bool) -> None:
    st.html(f"<style>{BASE}{PRESENTATION if presentation else ''}</style>")


def chart(figure: go.Figure, key: str, **options) -> None:
    """`st.plotly_chart` across the container's width, drawn for presentation mode when it is on.

    Without plotly's toolbar: on a narrow chart it covered the legend and the titles (dragging still zooms).
    """
    shown = plots.for_projector(figure) if presentation_mode() else figure
    config = {"displayModeBar": False, **options.pop("config", {})}
    st.plotly_chart(shown, width="stretch", key=key, config=config, **options)


SCROLL_SCRIPT = """<script>
(() => {
  const page = parent.document;
  const started = Date.now();
  let touched = false;  // the student scrolls by hand: leave the page where they put it
  for (const kind of ["wheel", "touchmove", "keydown"]) page.addEventListener(kind, () => { touched = true; }, {once: true});
  const settle = () => {
    if (touched) return;
    const pane = page.querySelector(".st-key-%(key)s");
    if (pane) pane.scrollIntoView({block: "start"});
    const drawn = pane && pane.querySelector('[data-testid="stHeading"]');
    const atTop = pane && Math.abs(pane.getBoundingClientRect().top) < 2;
    if (!(drawn && atTop) && Date.now() - started < 4000) setTimeout(settle, 100);
  };
  settle();
})();
</script>"""


def scroll_into_view(key: str) -> None:
    """Bring the container `key` to the top of the screen, once its heading is drawn.

    The script runs as soon as it arrives, before the rest of the pane: scrolling then would stop
    short of a pane that is still growing, so it tries again until the heading is at the top (4 s at
    most, and never after the student scrolls by hand).
    """
    st.html(SCROLL_SCRIPT % {"key": key}, unsafe_allow_javascript=True)
