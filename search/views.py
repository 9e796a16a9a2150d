"""The search page: /search, the search box of every page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from incidents.accounts.auth import signed_in
from incidents.errors import BadRequest
from incidents.security import tolerates_nul

from . import schemas, service
from .engine import FACETS
from .serialize import hit_url

bp = Blueprint("search", __name__)

FACET_LABELS = {
    "type": "Kind",
    "service": "Service",
    "team": "Team",
    "severity": "Severity",
    "category": "Contributing factor",
    "tag": "Tag",
    "year": "Year",
}


@bp.get("/search")
@signed_in
@tolerates_nul
def search() -> str:
    """Results for the words typed, with facets to narrow them; never an error page for what was typed."""
    args = MultiDict(request.args)
    notice = None
    try:
        query = schemas.search_query(args)
    except BadRequest as exc:
        notice = f"Part of the search was left out: {exc}"
        query = schemas.SearchQuery(q=args.get("q", "")[:20_000])
    results = service.search(current_user, query.request())
    return render_template(
        "search/results.html",
        query=query,
        results=results,
        notice=notice,
        hit_url=hit_url,
        facet_labels=FACET_LABELS,
        facets=FACETS,
        link=lambda **changes: _link(args, **changes),
        chosen=lambda facet, value: value in getattr(query, facet),
    )


def _link(args: MultiDict[str, str], **changes: Any) -> str:
    """This search's URL with some parameters changed (a facet value toggled, another page, sort)."""
    params = MultiDict(args)
    toggle = changes.pop("toggle", None)
    if toggle:
        facet, value = toggle
        values = [v for item in params.getlist(facet) for v in item.split(",") if v]
        params.setlist(facet, [v for v in values if v != value] if value in values else [*values, value])
        params.pop("page", None)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    return url_for("search.search") + "?" + urlencode(list(params.items(multi=True)))
