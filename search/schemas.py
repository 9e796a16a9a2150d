"""What the search API and page accept: the query string, checked and bounded."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.datastructures import MultiDict

from incidents import schemas as incident_schemas

from .engine import FACETS, LIMIT_MAX, PAGE_MAX, SearchRequest


class SearchQuery(BaseModel):
    """GET /api/search and /search: the words, facet filters (repeatable or comma-separated), sort, page."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=20_000)
    type: list[Literal["incident", "postmortem"]] = []
    service: list[str] = []
    team: list[str] = []
    severity: list[str] = []
    category: list[str] = []
    tag: list[str] = []
    year: list[str] = []
    sort: Literal["relevance", "date"] = "relevance"
    limit: int = Field(default=20, ge=1, le=LIMIT_MAX)
    page: int = Field(default=1, ge=1, le=PAGE_MAX)

    def request(self) -> SearchRequest:
        """The engine's request."""
        filters = {name: tuple(getattr(self, name)) for name in FACETS if getattr(self, name)}
        return SearchRequest(q=self.q, filters=filters, sort=self.sort, limit=self.limit, page=self.page)


class SimilarText(BaseModel):
    """POST /api/similar: a description of what is happening, and the services it touches."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=50_000)
    services: list[str] = Field(default=[], max_length=20)
    limit: int = Field(default=5, ge=1, le=LIMIT_MAX)


def search_query(args: MultiDict[str, str]) -> SearchQuery:
    """The query string read into a SearchQuery; BadRequest naming a parameter that does not fit."""
    values: dict[str, Any] = {}
    for name in args:
        # A search stores nothing and drops control characters itself: a NUL is not worth a 400 here.
        raw = [item.replace("\x00", " ") for item in args.getlist(name)]
        if name in FACETS:
            values[name] = [v.strip() for item in raw for v in item.split(",") if v.strip()]
        else:
            values[name] = raw[-1]
    return incident_schemas.parse_query(SearchQuery, values)
