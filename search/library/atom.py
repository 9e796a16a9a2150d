"""An Atom 1.0 feed (RFC 4287) of published post-mortems, as plain values a template writes out.

Every text is made safe for XML here (XML 1.0 cannot hold most control characters, which a title may
carry); the template escapes markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import url_for

from incidents.library import PublishedEntry
from incidents.models import utcnow

SUMMARY_MAX = 1_000
# What XML 1.0 cannot hold: control characters but tab and line breaks, lone surrogates, U+FFFE/U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class AtomCategory:
    """A category of an entry: its term, the scheme it belongs to (a shelf's address) and a label."""

    term: str
    scheme: str
    label: str


@dataclass(frozen=True)
class AtomEntry:
    """One published post-mortem as a feed entry."""

    id: str
    title: str
    url: str
    published: str
    updated: str
    summary: str
    categories: tuple[AtomCategory, ...]


@dataclass(frozen=True)
class AtomFeed:
    """A feed: its id, title, when it last changed, its own address, the page it mirrors, its entries."""

    id: str
    title: str
    updated: str
    self_url: str
    page_url: str
    entries: tuple[AtomEntry, ...]


def atom_feed(entries: Sequence[PublishedEntry], *, title: str, feed_id: str, self_url: str, page_url: str) -> AtomFeed:
    """The feed of these post-mortems (absolute URLs: a feed is read away from the site)."""
    updated = max((entry.updated_at for entry in entries), default=utcnow())
    return AtomFeed(
        id=feed_id,
        title=xml_text(title),
        updated=rfc3339(updated),
        self_url=self_url,
        page_url=page_url,
        entries=tuple(_entry(entry) for entry in entries),
    )


def _entry(entry: PublishedEntry) -> AtomEntry:
    # The document's address is the entry's id: stable for as long as the site keeps its address.
    url = url_for("review_document.document", postmortem_id=entry.postmortem_id, _external=True)
    summary = xml_text(entry.summary.strip())
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1].rstrip() + "…"
    return AtomEntry(
        id=url,
        title=xml_text(entry.title),
        url=url,
        published=rfc3339(entry.published_at),
        updated=rfc3339(entry.updated_at),
        summary=summary,
        categories=(
            *_categories("service", entry.services),
            *_categories("team", entry.teams),
            *_categories("tag", entry.tags),
            *_categories("category", entry.categories),
        ),
    )


def _categories(facet: str, values: Sequence[str]) -> list[AtomCategory]:
    scheme = url_for("library.catalogue", facet=facet, _external=True)
    return [AtomCategory(term=xml_text(v), scheme=scheme, label=xml_text(f"{facet}: {v}")) for v in values]


def xml_text(value: str) -> str:
    """The text without the characters XML 1.0 cannot hold."""
    return NOT_XML.sub("", value)


def rfc3339(value: datetime) -> str:
    """A time as Atom writes it, in UTC."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
