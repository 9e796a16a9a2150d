"""The one place Markdown becomes HTML, sanitized so that nothing in it can run or call home.

GitHub's CommonMark parser (cmark-gfm, in C) does the parsing: its time grows with the length of the
text whatever the text holds, where Python-Markdown's inline stage took minutes on 50,000 characters
of brackets. What the parser cannot bound is bounded here: a text whose tables would fill in more
cells than a page can hold is parsed without tables, and HTML that nests deeper than a page needs, or
grows far larger than its text, is shown as the plain text it came from, since the sanitizer's time
grows with depth. nh3 then keeps only harmless tags and attributes, links get rel="noopener
noreferrer nofollow", and an image loads only from Kintsugi itself or a host in KINTSUGI_IMAGE_HOSTS,
so a post-mortem cannot carry a tracking pixel.

Texts are rendered when they are saved (`stored_html`), and pages show what was stored (`shown`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from flask import current_app, has_app_context
from markupsafe import Markup, escape

_EXTENSIONS = ("table", "strikethrough", "autolink", "tagfilter")
# Raw HTML goes through to the sanitizer (as on GitHub), which keeps what is harmless.
_OPTIONS = Options.CMARK_OPT_UNSAFE
_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "noopener noreferrer nofollow"

# A table's short rows are filled in to the header's width: 2,000 columns over 20,000 lines is 40
# million cells from 50 KB. Past this many possible cells the text is parsed without tables.
TABLE_CELLS_MAX = 20_000
# The sanitizer's time grows with nesting; no text a person writes nests this deep.
DEPTH_MAX = 64
# HTML this many times larger than its text (plus a little) is a text built to explode; escaping
# alone makes a text of quotes six times larger (" is &quot;).
GROWTH_MAX = 8
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset({"area", "br", "col", "hr", "img", "input", "wbr", "source", "embed", "meta", "link"})


def render_markdown(text: str | None) -> Markup:
    """Markdown to sanitized HTML: no scripts, event handlers, frames, javascript: links or foreign images."""
    text = _encodable(text or "")
    extensions = _EXTENSIONS if _possible_cells(text) <= TABLE_CELLS_MAX else _EXTENSIONS[1:]
    html = cmarkgfm.markdown_to_html_with_extensions(text, options=_OPTIONS, extensions=list(extensions))
    if len(html) > GROWTH_MAX * len(text) + 4_096 or _depth(html) > DEPTH_MAX:
        return _plain(text)
    return Markup(_cleaner(image_hosts()).clean(html))


def stored_html(text: str | None) -> str | None:
    """What a model keeps beside a Markdown text when the text is saved (None for no text)."""
    return str(render_markdown(text)) if text else None


def shown(html: str | None, text: str | None) -> Markup:
    """A text's HTML as stored at save; rendered now if it predates storing (rows written in bulk)."""
    if html is not None:
        return Markup(html)
    return render_markdown(text)


def image_hosts() -> tuple[str, ...]:
    """Hosts images may load from (KINTSUGI_IMAGE_HOSTS; "*.example.com" allows its subdomains)."""
    if not has_app_context():
        return ()
    return parse_image_hosts(current_app.config.get("IMAGE_HOSTS", ""))


def parse_image_hosts(raw: object) -> tuple[str, ...]:
    """The configured hosts (comma-separated, or a list), lower-cased; ValueError naming the setting for
    one that is not a host name."""
    values = [str(v) for v in raw] if isinstance(raw, list | tuple | set) else str(raw or "").split(",")
    hosts = tuple(sorted({value.strip().lower() for value in values if value.strip()}))
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise ValueError(f"KINTSUGI_IMAGE_HOSTS: {host!r} is not a host name (like images.example.com)")
    return hosts


def image_allowed(src: str, hosts: tuple[str, ...]) -> bool:
    """Whether an image at src may load: a path on Kintsugi itself, or https on an allowed host."""
    # Browsers drop tabs and newlines inside URLs and read a backslash as a slash: "/\\evil" is "//evil".
    url = re.sub(r"[\t\n\r]", "", src).strip().replace("\\", "/")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return False
    if not parts.scheme and not parts.netloc and not url.startswith("//"):
        return True
    if parts.scheme != "https" or not host:
        return False
    return any(host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])) for allowed in hosts)


@lru_cache(maxsize=8)
def _cleaner(hosts: tuple[str, ...]) -> nh3.Cleaner:
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not image_allowed(value, hosts):
            return None
        return value

    # A <time> keeps its datetime, so that a page can show the time in each reader's zone.
    attributes = {**nh3.ALLOWED_ATTRIBUTES, "time": {"datetime"}}
    return nh3.Cleaner(url_schemes=_SCHEMES, link_rel=_LINK_REL, attribute_filter=keep, attributes=attributes)


def _plain(text: str) -> Markup:
    """A text whose HTML would be too deep or too large for a page: shown as it was written."""
    note = "Shown as written: its Markdown nests too deep or grows too large to display."
    return Markup('<p class="unrendered-note">{}</p><pre class="unrendered">{}</pre>').format(note, escape(text))


def _possible_cells(text: str) -> int:
    """An upper bound on the cells a table could fill in: the widest line's pipes times the lines."""
    if "|" not in text:
        return 0
    lines = text.splitlines()
    return max(line.count("|") for line in lines) * len(lines)


def _depth(html: str) -> int:
    """How deep the elements of html nest (an upper bound: unclosed tags count as open)."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _encodable(text: str) -> str:
    """The text as UTF-8 can carry it: a lone surrogate (from a JSON escape) becomes U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)
