"""The library's pages: /library (the front page), /library/<facet> (every value of a facet) and
/library/<facet>/<value> (a shelf: the post-mortems with that value, newest first)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from incidents.accounts.auth import signed_in
from incidents.database import get_session
from incidents.reader import display_zone

from ..serialize import hit_url
from . import service
from .feeds import feed_url

bp = Blueprint("library", __name__, url_prefix="/library")


@bp.get("")
@signed_in
def front_page() -> str:
    """Recently published, this day in incident history, and what to browse the library by."""
    page = service.front_page(get_session(), viewer=current_user, zone=display_zone())
    return render_template("search/library/front.html", page=page, shelves=service.SHELVES, feed_url=feed_url)


@bp.get("/<facet>")
@signed_in
def catalogue(facet: str) -> str:
    """Every value of a facet, with how many post-mortems have it."""
    found = service.catalogue(current_user, facet=facet)
    return render_template("search/library/catalogue.html", catalogue=found, shelves=service.SHELVES)


@bp.get("/<facet>/<path:value>")
@signed_in
def shelf(facet: str, value: str) -> str:
    """The post-mortems with one value of a facet, newest incident first, a page at a time."""
    found = service.shelf(current_user, facet=facet, value=value, page=request.args.get("page", 1, type=int))
    return render_template(
        "search/library/shelf.html",
        shelf=found,
        shelves=service.SHELVES,
        feeds=service.FEEDS,
        feed_url=feed_url,
        hit_url=hit_url,
    )
