"""Text that came from a user (a link's values, typed values, file names, column and class names, run ids) shown
on a page: never interpreted as Markdown or HTML.

`md_escape` backslash-escapes every ASCII punctuation character (CommonMark allows an escape before each), so no
link, image, emphasis, autolink (`http\\://...`, `www\\.`, `a\\@b`), HTML tag, Streamlit colour directive
(`\\:red\\[...\\]`) or math (`\\$`) can form; the text reads the same. `html_escape` is for plotly's
HTML-like labels (legends, hover text).
"""

from __future__ import annotations

import html
import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # all of ASCII's punctuation: ! " # ... / : ... @ [ ... ` { ... ~


def md_escape(text) -> str:
    """`text` as Markdown that renders to exactly its characters (line breaks become spaces)."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))


def html_escape(text) -> str:
    """`text` for a plotly label: `<`, `>`, `&` and quotes as entities, so no tag (e.g. `<a href>`) forms."""
    return html.escape(str(text))


def md_code(text) -> str:
    """`text` as inline code: a fence of one more backtick than its longest run of them (so it cannot close early)."""
    text = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_unescape(markdown: str) -> str:
    """The text `md_escape` escaped (what the page shows): for tests and for reading messages back."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
