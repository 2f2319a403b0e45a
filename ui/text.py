"""Text that came from a user (a link's values, typed values, file names, column and class names, run ids) shown
on a page: never interpreted as Markdown or HTML.

`md_escape` backslash-escapes every ASCII punctuation character (CommonMark allows an escape before each), so no
link, image, emphasis, HTML tag, Streamlit colour directive
(`\\:red\\[...\\]`) or math (`\\$`) can form, and an invisible word joiner breaks every autolink (URL, `www.`,
e-mail address); the text reads the same. `html_escape` is for plotly's
HTML-like labels (legends, hover text).
"""

from __future__ import annotations

import html
import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # all of ASCII's punctuation: ! " # ... / : ... @ [ ... ` { ... ~


# Streamlit's Markdown (remark-gfm) turns `http://...`, `https://...`, `www.` names and e-mail addresses into links
# by searching the text it has already parsed, so escaping their punctuation does not stop it. A WORD JOINER
# (U+2060, invisible) after `http`/`https`/`www` and before `@` does: the text looks the same, no link forms.
_JOIN = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?(?=:)|www(?=\.))|(?=@)")


def md_escape(text) -> str:
    """`text` as Markdown that renders to exactly its characters (line breaks become spaces), never a link."""
    text = _AUTOLINK.sub(lambda m: (m.group(1) or "") + _JOIN, " ".join(str(text).splitlines()))
    return _PUNCTUATION.sub(r"\\\1", text)


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
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(_JOIN, "")
