"""The one place Markdown becomes HTML, sanitized so that nothing in it can run."""

from __future__ import annotations

import threading
from functools import lru_cache

import markdown
import nh3
from markupsafe import Markup

_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
_SCHEMES = {"http", "https", "mailto"}
# Texts up to this long are remembered once rendered: a timeline's entries are short, and a
# page of 2,000 of them is read again and again while the incident runs. Longer texts (pasted
# logs, post-mortem sections) are rendered each time, so the cache stays small (~20 MB at most).
_CACHED_TEXT_MAX = 2_000
_CACHE_SIZE = 4_096

# Building a Markdown converter (extensions, pattern registries) costs several times more than
# converting a short text with it, so each thread keeps one; a converter is not thread-safe.
_local = threading.local()


def render_markdown(text: str) -> Markup:
    """Markdown to sanitized HTML: no scripts, event handlers, frames or javascript: links."""
    text = text or ""
    if len(text) <= _CACHED_TEXT_MAX:
        return _render_cached(text)
    return _render(text)


@lru_cache(maxsize=_CACHE_SIZE)
def _render_cached(text: str) -> Markup:
    return _render(text)


def _render(text: str) -> Markup:
    converter: markdown.Markdown | None = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(extensions=_EXTENSIONS, output_format="html")
    html = converter.reset().convert(text)
    return Markup(nh3.clean(html, url_schemes=_SCHEMES, link_rel="noopener noreferrer nofollow"))
