"""The lesson plan (docs/lesson.md) that Home shows the teacher: read from the checkout, never required.

The plan is documentation, not part of the package: a server started from the source folder (as the README says)
has it beside app.py; an installed copy may not. Without it Home says where to find it, and nothing else changes.
"""

import re
from pathlib import Path

LESSON = Path("docs") / "lesson.md"  # beside app.py, in the source folder
TITLE = "Lesson plan (45 minutes)"
MISSING = (
    "The lesson plan is `docs/lesson.md` in mnistviz's source folder; this server has no copy of it. Start the "
    "dashboard from the source folder (`streamlit run app.py`) to see it here."
)
LIMIT = 200_000  # bytes: the plan is a few pages; a file far larger is not the plan


def lesson_text(beside: str | Path) -> str | None:
    """The plan's Markdown (its own title left out: the expander's label says it), or None when the folder of
    `beside` (app.py, whose `__file__` Home passes) has no readable plan: missing, unreadable, not UTF-8 or far
    too large."""
    try:
        with (Path(beside).resolve().parent / LESSON).open("rb") as file:
            raw = file.read(LIMIT + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if len(raw) > LIMIT or not text.strip():
        return None
    lines = text.lstrip("\ufeff").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    lines = ["##" + line if re.match(r"#{1,4} ", line) else line for line in lines]  # headings sized for a box
    return "\n".join(lines).strip() + "\n"
