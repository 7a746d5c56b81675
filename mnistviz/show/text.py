"""User text is text: run names (and anything read from a run's files) shown to the whole class.

A name is cleaned once, when it is saved (`clean`): control, bidi and other invisible format
characters are taken out, since they clear a teacher's terminal or make one name pass for another.
Wherever text is shown it is escaped for where it goes: Streamlit's Markdown (`markdown`), Plotly's
HTML-like labels (`plotly`), and spreadsheet cells (`csv_cell`). Without that a name like
`![x](http://host/p.png)` makes every classmate's browser fetch a URL, `:red-background[...]` or
`$\\Huge X$` defaces the page, and `<a href=...>` becomes a link inside a chart's legend.
"""

import html
import re
import unicodedata

ZERO_WIDTH_SPACE = "\u200b"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$=^&\"'%@/;,?])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


def clean(text: str) -> str:
    """Text without control, bidi-override or other invisible format characters, its spaces folded."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    kept = "".join(c for c in kept if unicodedata.category(c) not in ("Cf", "Co", "Cs", "Cn"))
    return " ".join(kept.split())


def markdown(text: str) -> str:
    """`text` as Streamlit Markdown shows it literally: no links, images, formatting, colours, emoji or maths.

    Every Markdown character is escaped with a backslash; a colon is followed by a zero-width space,
    because Streamlit turns `:name:` into an emoji or icon and `:colour[...]` into coloured text even
    when escaped, and `http:` into a link.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace(":", ":" + ZERO_WIDTH_SPACE)


def plotly(text: str) -> str:
    """`text` for a Plotly title, legend or hover label: its HTML-like tags shown, not obeyed."""
    return html.escape(str(text), quote=False)  # Plotly decodes &lt; &gt; &amp;, not &quot;: quotes stay


def csv_cell(value):
    """A cell a spreadsheet shows as the text it is, not a formula; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
