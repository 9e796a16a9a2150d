"""Markdown becomes HTML in one function, and nothing in it can run."""

from __future__ import annotations

import pytest

from incidents.rendering import render_markdown


def test_markdown_renders() -> None:
    html = str(render_markdown("**bold** and [a link](https://example.com)\n\n- one\n- two"))
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">a link</a>' in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    ("hostile", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<iframe src="https://evil.example.com"></iframe>', "<iframe"),
        ('<div onclick="steal()">hi</div>', "onclick"),
        ("<style>body{display:none}</style>", "<style"),
        ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
    ],
)
def test_hostile_markup_renders_inert(hostile: str, forbidden: str) -> None:
    assert forbidden not in str(render_markdown(hostile)).lower()
