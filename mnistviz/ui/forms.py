"""Refuse, never coerce: what a crafted request sends to a choice widget is checked before the widget is drawn.

Streamlit replaces a choice it does not offer by the widget's first (a forged architecture `rnn` became
`mlp` and trained); the value sent is still readable from the session state until the widget is drawn.
"""

from collections.abc import Collection

import streamlit as st


def forged_choices(widgets: dict[str, tuple[str, Collection]]) -> list[str]:
    """For each widget key whose value sent is none of its choices: a message naming the field and the value."""
    said = []
    for key, (label, choices) in widgets.items():
        if key not in st.session_state:
            continue
        value = st.session_state[key]
        if value not in choices:
            said.append(f"{label} must be one of {', '.join(map(str, choices))}, not {str(value)[:40]!r}")
    return said
