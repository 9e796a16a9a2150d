"""Markdown built to stall a parser or a sanitizer: every shape, at a given length.

Used by `bench_markdown.py`, which prints each shape's rendering time, and by the tests, which hold
every shape under 100 ms at 50,000 characters. Shapes: unbalanced and nested brackets, link and
image openers, emphasis runs, backtick runs, angle brackets and autolinks, raw HTML that nests,
blockquotes and lists that nest, tables whose short rows are filled in, reference links that expand,
entities, escapes, and text that escaping alone makes larger.
"""

from __future__ import annotations

from collections.abc import Callable


def stress_set(length: int = 50_000) -> dict[str, str]:
    """Each pathological shape, exactly `length` characters long."""
    fill = _filler(length)
    half = length // 2
    url = "http://example.com/" + "a" * 5_000
    shapes = {
        "open brackets": fill("["),
        "nested brackets": "[" * half + "]" * (length - half),
        "link openers": fill("[a]("),
        "image openers": fill("![a]("),
        "brackets then text": fill("[a "),
        "close-open brackets": fill("]["),
        "reference links": fill("[a][b] "),
        "many links": fill("[a](http://x.example/) "),
        "link titles unclosed": fill('[a](b "'),
        "parentheses in a link": "[a](" + "(" * (length - 4),
        "star runs": fill("*"),
        "emphasis pairs": fill("*a* "),
        "strong pairs": fill("**a** "),
        "underscores": fill("_a "),
        "mixed emphasis": fill("***a_ "),
        "nested emphasis": fill("*" * 500 + "a" + "*" * 499),
        "backticks": fill("`"),
        "backtick runs": fill("".join("`" * k + "a" for k in range(1, 100))),
        "angle brackets": fill("<"),
        "autolink openers": fill("<http://a"),
        "mail openers": fill("<a@"),
        "unclosed tags": fill("<a "),
        "html comments": fill("<!--"),
        "nested divs": fill("<div>"),
        "nested list html": fill("<ul><li>"),
        "nested blockquote html": fill("<blockquote>"),
        "nested blockquotes": fill(">"),
        "nested blockquotes spaced": fill("> "),
        "nested lists": fill("- * + "),
        "nested list and quote": fill("> - "),
        "nested ordered lists": fill("1. "),
        "indented lists": fill("\n".join("  " * k + "- a" for k in range(300)) + "\n"),
        "table filled in": "|" + "a|" * 2_000 + "\n|" + "-|" * 2_000 + "\n" + fill("x\n")[: length - 8_004],
        "table rows": fill("|a|b|\n|-|-|\n" + "|x\n" * 1_000),
        "pipes": fill("|"),
        "reference expansion": ("[a]: " + url + "\n\n" + fill("[a]"))[:length],
        "entities": fill("&a"),
        "numeric entities": fill("&#x1F600;"),
        "escapes": fill("\\["),
        "quotes": fill('"'),
        "headings": fill("#"),
        "fence unclosed": "```\n" + fill("a\n")[: length - 4],
        "bare urls": fill("www.a.example "),
        "strikethrough": fill("~~a "),
        "line breaks": fill("a  \n"),
    }
    return {name: text[:length] for name, text in shapes.items()}


def _filler(length: int) -> Callable[[str], str]:
    def fill(unit: str) -> str:
        return (unit * (length // len(unit) + 1))[:length]

    return fill
