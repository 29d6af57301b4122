"""The one markdown escaper: free text and inline code that GitHub renders as typed."""

from __future__ import annotations

from mlopsctl.markdown import inline_code, inline_text


def test_free_text_keeps_angle_brackets_pipes_and_markers_visible():
    assert inline_text("raise it in policies/config/<stack>.json | `x` *y* _z_ [l](u)\nnext") == (
        r"raise it in policies/config/&lt;stack&gt;.json &#124; \`x\` \*y\* \_z\_ \[l\](u) next")


def test_a_backslash_is_escaped_before_the_markers_it_would_otherwise_cancel():
    assert inline_text("a\\*b") == r"a\\\*b"


def test_inline_code_survives_backticks_pipes_and_html():
    assert inline_code("a `tick` | <script>") == "<code>a `tick` &#124; &lt;script&gt;</code>"
