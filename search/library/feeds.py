"""The library's Atom feeds: /library/feed.atom (published post-mortems, newest first), and one per
service and per tag. A feed reader cannot sign in, so a feed answers a signed-in session or a personal
feed token in its URL (?token=...), and shows what that person may see; anything else is a 401."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from incidents.database import get_session
from incidents.errors import AuthenticationRequired
from incidents.models import User

from . import service
from .atom import atom_feed
from .tokens import feed_reader, feed_token

bp = Blueprint("library_feeds", __name__, url_prefix="/library")

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
TITLES = {None: "published post-mortems", "service": "post-mortems of service {}", "tag": "post-mortems tagged {}"}


@bp.get("/feed.atom")
def library_feed() -> Response:
    """The newest published post-mortems."""
    return _feed(None, "")


@bp.get("/service/<path:value>/feed.atom")
def service_feed(value: str) -> Response:
    """The newest published post-mortems of one service."""
    return _feed("service", value)


@bp.get("/tag/<path:value>/feed.atom")
def tag_feed(value: str) -> Response:
    """The newest published post-mortems with one tag."""
    return _feed("tag", value)


@bp.errorhandler(AuthenticationRequired)
def _refused(exc: AuthenticationRequired) -> Response:
    # A feed reader shows the answer's text, not a page: say plainly what to do.
    return Response(f"{exc.message}\n", status=401, content_type="text/plain; charset=utf-8")


def feed_url(facet: str | None = None, value: str = "") -> str:
    """The signed-in person's own address of a feed, with their token, to paste into a feed reader."""
    return _url(facet, value, token=feed_token(current_user))


def _feed(facet: str | None, value: str) -> Response:
    token = request.args.get("token")
    session = get_session()
    reader = _reader(token)
    entries = service.feed(session, reader=reader, facet=facet, value=value)
    page = (
        url_for("library.shelf", facet=facet, value=value, _external=True)
        if facet
        else url_for("library.front_page", _external=True)
    )
    feed = atom_feed(
        entries,
        title="Kintsugi: " + TITLES[facet].format(value),
        feed_id=_url(facet, value, token=None),
        self_url=_url(facet, value, token=token),
        page_url=page,
    )
    response = Response(render_template("search/library/feed.xml", feed=feed), content_type=CONTENT_TYPE)
    # What a feed holds depends on who reads it: no shared cache may keep it.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _reader(token: str | None) -> User:
    """Whose feed this is: the token's user, else the person signed in; AuthenticationRequired otherwise."""
    if token is not None:
        user = feed_reader(get_session(), token)
        if user is None:
            raise AuthenticationRequired(
                "This feed token is not valid (mistyped, or its account was deactivated). "
                "Copy your feed's address again from the library page."
            )
        return user
    if current_user.is_authenticated:
        found: User = current_user._get_current_object()
        return found
    raise AuthenticationRequired(
        "A feed needs your personal feed address (it ends in ?token=...). Copy it from the library page."
    )


def _url(facet: str | None, value: str, *, token: str | None) -> str:
    """A feed's absolute address, with a token or without."""
    if facet is None:
        return url_for("library_feeds.library_feed", token=token, _external=True)
    return url_for(f"library_feeds.{facet}_feed", value=value, token=token, _external=True)
