"""The one place Markdown becomes HTML, sanitized so that nothing in it can run."""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> Markup:
    """Markdown to sanitized HTML: no scripts, event handlers, frames or javascript: links."""
    html = markdown.markdown(text or "", extensions=_EXTENSIONS, output_format="html")
    return Markup(nh3.clean(html, url_schemes=_SCHEMES, link_rel="noopener noreferrer nofollow"))
