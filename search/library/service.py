"""The library's use cases: its front page (recently published, this day in incident history, what to
browse by), a shelf (the post-mortems of one service, team, tag, category or year), every value of one
of those, and the entries of a feed.

Shelves and their counts come from the search engine, whichever it is, so that what a reader may see is
decided in one place for search and browsing alike; the lists in order of publication and of the day
an incident began are read from the database (incidents.library), under the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import Session

from incidents.errors import NotFound
from incidents.library import PublishedEntry, published_on_this_day, recently_published
from incidents.models import LabelKind, User, utcnow

from ..engine import FACET_VALUES, FACET_VALUES_MAX, PAGE_MAX, Hit, SearchRequest, SearchResults
from ..service import engine_of, reader_of

# What the library is browsed by: facet -> (one, many), in the order the front page shows them.
SHELVES = {
    "service": ("Service", "Services"),
    "team": ("Team", "Teams"),
    "tag": ("Tag", "Tags"),
    "category": ("Contributing-factor category", "Contributing-factor categories"),
    "year": ("Year", "Years"),
}
# The shelves that have a feed of their own, and the incident label each one is.
FEEDS = {"service": LabelKind.SERVICE, "tag": LabelKind.TAG}
RECENT = 20
THIS_DAY = 50
SHELF_PAGE = 20
FEED_ENTRIES = 50
POSTMORTEMS = ("postmortem",)


@dataclass(frozen=True)
class FrontPage:
    """The library's front page, for one reader on one day."""

    today: date
    recent: list[PublishedEntry]
    this_day: list[PublishedEntry]
    # Published post-mortems the reader may see.
    total: int
    # facet -> its values with their counts: the most used ones (years newest first).
    shelves: dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class Shelf:
    """A page of the post-mortems with one value of a facet, newest incident first."""

    facet: str
    value: str
    total: int
    hits: tuple[Hit, ...]
    page: int

    @property
    def pages(self) -> int:
        """How many pages the shelf fills."""
        return max(1, -(-self.total // SHELF_PAGE))


@dataclass(frozen=True)
class Catalogue:
    """Every value of one facet (up to FACET_VALUES_MAX) with its count."""

    facet: str
    values: list[tuple[str, int]]

    @property
    def cut_short(self) -> bool:
        """Whether there may be values beyond those listed."""
        return len(self.values) >= FACET_VALUES_MAX


def front_page(session: Session, *, viewer: User, zone: str) -> FrontPage:
    """What was published lately, what happened on this day in earlier years (the day as the viewer's
    zone has it), and the values to browse by with their counts."""
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    recent = recently_published(session, viewer=viewer, limit=RECENT)
    this_day = published_on_this_day(session, viewer=viewer, today=today, zone=zone, limit=THIS_DAY)
    session.rollback()  # only read: end the transaction
    counted = _postmortems(viewer, FACET_VALUES)
    shelves = {facet: _ordered(facet, counted.facets.get(facet, [])) for facet in SHELVES}
    return FrontPage(today=today, recent=recent, this_day=this_day, total=counted.total, shelves=shelves)


def shelf(viewer: User, *, facet: str, value: str, page: int = 1) -> Shelf:
    """One page of the post-mortems the viewer may see with this value of the facet; NotFound for a
    facet the library is not browsed by, or a page past the last."""
    _ensure_shelf(facet)
    if not 1 <= page <= PAGE_MAX:
        raise NotFound(f"there is no page {page}")
    request = SearchRequest(
        q="", filters={"type": POSTMORTEMS, facet: (value,)}, sort="date", limit=SHELF_PAGE, page=page
    )
    found = engine_of(current_app).search(request, reader_of(viewer))
    if page > 1 and not found.hits:
        raise NotFound(f"there is no page {page} of {facet} {value}")
    return Shelf(facet=facet, value=value, total=found.total, hits=found.hits, page=page)


def catalogue(viewer: User, *, facet: str) -> Catalogue:
    """Every value of the facet among the post-mortems the viewer may see, with its count."""
    _ensure_shelf(facet)
    counted = _postmortems(viewer, FACET_VALUES_MAX).facets.get(facet, [])
    return Catalogue(facet=facet, values=_ordered(facet, counted, by_name=True))


def feed(session: Session, *, reader: User, facet: str | None = None, value: str = "") -> list[PublishedEntry]:
    """The newest published post-mortems the reader may see, of one service or tag when asked."""
    if facet is not None and facet not in FEEDS:
        raise NotFound(f"there is no feed by {facet}")
    label = (FEEDS[facet], value) if facet is not None else None
    entries = recently_published(session, viewer=reader, limit=FEED_ENTRIES, label=label)
    session.rollback()
    return entries


def _postmortems(viewer: User, facet_values: int) -> SearchResults:
    """Published post-mortems the viewer may see, counted by every facet."""
    request = SearchRequest(q="", filters={"type": POSTMORTEMS}, sort="date", limit=1, facet_values=facet_values)
    return engine_of(current_app).search(request, reader_of(viewer))


def _ordered(facet: str, values: list[tuple[str, int]], *, by_name: bool = False) -> list[tuple[str, int]]:
    """Years newest first; other values by name (a long list is read so), else most used first."""
    if facet == "year":
        return sorted(values, key=lambda pair: int(pair[0]) if pair[0].isdigit() else 0, reverse=True)
    if by_name:
        return sorted(values, key=lambda pair: (pair[0].casefold(), pair[0]))
    return values


def _ensure_shelf(facet: str) -> None:
    if facet not in SHELVES:
        raise NotFound(f"the library is not browsed by {facet!r}")
