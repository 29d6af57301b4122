"""Just enough Go lexing to walk composite literals: brackets matched, strings and comments skipped.

A resource schema is one big composite literal (``map[string]*schema.Schema{...}`` or
``schema.Schema{Attributes: ...}``). Walking it needs three things only: find the partner of a
bracket, split a literal's body into its top-level elements, and split ``Key: value``. Strings,
raw strings, runes and comments are skipped whole, because schema descriptions and validation
patterns routinely contain braces and commas.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTNERS = {"{": "}", "(": ")", "[": "]"}
CLOSING = frozenset(PARTNERS.values())


class GoSyntaxError(ValueError):
    """The text is not balanced Go (an unterminated string, comment or bracket)."""


def end_of_token(text: str, i: int) -> int:
    """If a string, raw string, rune or comment starts at ``i``, the index just after it; else ``i``."""
    c = text[i]
    if c in "\"'":
        j = i + 1
        while j < len(text) and text[j] != c:
            if text[j] == "\n":
                raise GoSyntaxError(f"unterminated literal at offset {i}")
            j += 2 if text[j] == "\\" else 1
        if j >= len(text):
            raise GoSyntaxError(f"unterminated literal at offset {i}")
        return j + 1
    if c == "`":
        j = text.find("`", i + 1)
        if j < 0:
            raise GoSyntaxError(f"unterminated raw string at offset {i}")
        return j + 1
    if text.startswith("//", i):
        j = text.find("\n", i)
        return len(text) if j < 0 else j
    if text.startswith("/*", i):
        j = text.find("*/", i + 2)
        if j < 0:
            raise GoSyntaxError(f"unterminated comment at offset {i}")
        return j + 2
    return i


def code_positions(text: str, start: int, end: int):
    """Yield ``(index, depth)`` of every character of ``text[start:end]`` outside strings and comments.

    ``depth`` counts the brackets open before the character, relative to ``start``; a closing
    bracket is reported at the depth it closes to.
    """
    depth, i = 0, start
    while i < end:
        j = end_of_token(text, i)
        if j != i:
            i = j
            continue
        c = text[i]
        if c in PARTNERS:
            yield i, depth
            depth += 1
        elif c in CLOSING:
            depth -= 1
            yield i, depth
        else:
            yield i, depth
        i += 1


def matching(text: str, i: int) -> int:
    """``text[i]`` opens a bracket: the index just after its partner."""
    for j, depth in code_positions(text, i, len(text)):
        if depth == 0 and text[j] in CLOSING:
            return j + 1
    raise GoSyntaxError(f"unbalanced bracket at offset {i}")


def without_comments(fragment: str) -> str:
    """``fragment`` with its comments removed (strings kept)."""
    out, i = [], 0
    while i < len(fragment):
        j = end_of_token(fragment, i)
        if j == i:
            out.append(fragment[i])
            i += 1
            continue
        if fragment[i] in "\"'`":
            out.append(fragment[i:j])
        i = j
    return "".join(out)


def squeezed(fragment: str) -> str:
    """Comments removed and whitespace collapsed: a fragment as one comparable line."""
    return " ".join(without_comments(fragment).split())


@dataclass(frozen=True)
class Element:
    """One top-level element of a composite literal: ``key`` (None when unkeyed) and its value's span."""

    key: str | None
    start: int
    end: int


def elements(text: str, start: int, end: int) -> list[Element]:
    """The comma-separated elements of the literal body ``text[start:end]``, split at ``Key:``."""
    found: list[Element] = []
    element_start, colon = start, -1
    for i, depth in code_positions(text, start, end):
        if depth != 0:
            continue
        c = text[i]
        if c == ":" and colon < 0 and not text.startswith(":=", i):
            colon = i
        elif c == ",":
            found.append(_element(text, element_start, colon, i))
            element_start, colon = i + 1, -1
    found.append(_element(text, element_start, colon, end))
    return [e for e in found if e.key or squeezed(text[e.start:e.end])]


def _element(text: str, start: int, colon: int, end: int) -> Element:
    if colon < 0:
        return Element(None, start, end)
    return Element(squeezed(text[start:colon]), colon + 1, end)


def keyed(text: str, start: int, end: int) -> dict[str, Element]:
    """The keyed elements of a literal body, by key (the schema fields of one attribute)."""
    return {e.key: e for e in elements(text, start, end) if e.key}


def literal_body(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The body span of the composite literal a value starts with, or None for a call or an identifier.

    ``&schema.Resource{...}`` and ``schema.StringAttribute{...}`` have a body; ``helper(...)`` and
    ``someSchema`` do not (a parenthesis before any brace means the value is a call).
    """
    for i, depth in code_positions(text, start, end):
        if depth != 0:
            continue
        if text[i] == "{":
            return i + 1, matching(text, i) - 1
        if text[i] == "(":
            return None
    return None
