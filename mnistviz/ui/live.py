"""Poll until done, then rerun once: how a page shows work that goes on in the background."""

import functools
from collections.abc import Callable

import streamlit as st


def refresh_while(busy: Callable[[], bool], every: float = 1.0):
    """Decorate a part of a page so that it redraws itself every `every` seconds while `busy()` is true.

    When the work ends, one full rerun draws the page as it now is and stops the timer (a fragment's
    `run_every` is fixed when the page defines it, so only a full rerun can switch it off).
    """
    was_busy = busy()

    def decorate(body: Callable[[], None]) -> Callable[[], None]:
        @st.fragment(run_every=every if was_busy else None)
        @functools.wraps(body)
        def part() -> None:
            if was_busy and not busy():
                st.rerun()
            body()

        return part

    return decorate
