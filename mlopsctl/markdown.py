"""Text made safe for GitHub markdown: one escaper for every table cell and free-text message we render."""

from __future__ import annotations

import html

_MARKDOWN_SPECIALS = "\\`*_[]"


def inline_text(text: str) -> str:
    """Free text (a policy message, a problem) made inert for markdown and HTML, on one line.

    HTML is escaped, so a message naming ``policies/config/<stack>.json`` shows the ``<stack>``;
    pipes cannot end a table cell; emphasis and code markers show as typed.
    """
    escaped = html.escape(str(text).replace("\n", " "), quote=False).replace("|", "&#124;")
    for char in _MARKDOWN_SPECIALS:
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def inline_code(text: str) -> str:
    """Inline code for a table cell that survives backticks, pipes and HTML in values."""
    return "<code>" + html.escape(str(text).replace("\n", " "), quote=False).replace("|", "&#124;") + "</code>"
