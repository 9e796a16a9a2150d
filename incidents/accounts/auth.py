"""Who is asking: a signed-in browser session for pages, a Bearer token for the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, request, session, url_for
from flask_login import LoginManager, login_required, login_user

from ..database import get_session
from ..errors import AuthenticationRequired
from ..models import User
from .service import user_for_token

View = TypeVar("View", bound=Callable[..., Any])
GENERATION = "generation"
API_ACTOR = "kintsugi.api_actor"


def init_app(app: Flask) -> None:
    """Set up browser sessions: pages redirect to the login form when nobody is signed in."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Sign in to see incidents."
    manager.user_loader(_load_user)
    manager.init_app(app)


def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active or session.get(GENERATION) != user.session_generation:
        return None
    return user


def sign_in(user: User) -> None:
    """Begin a browser session for the user, of their current session generation."""
    session.clear()  # nothing from before sign-in carries over
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
    session[GENERATION] = user.session_generation
    login_user(user)


def keep_session(user: User) -> None:
    """Keep this browser signed in after the user's session generation advanced (their own new password)."""
    session[GENERATION] = user.session_generation


def api_actor() -> User:
    """The user whose Bearer token came with this API request; 401 otherwise."""
    # Kept with this request, not in g: g belongs to the app context, which a test (or a script) that
    # holds one open shares across requests, and one caller's token must never answer for another's.
    known: User | None = request.environ.get(API_ACTOR)
    if known is not None:
        return known
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationRequired("send a personal API token as 'Authorization: Bearer <token>'")
    user = user_for_token(get_session(), secret.strip())
    if user is None:
        raise AuthenticationRequired("the API token is unknown or revoked, or its account is deactivated")
    request.environ[API_ACTOR] = user
    return user


def signed_in(view: View) -> View:
    """The one way a page requires sign-in: Flask-Login's login_required, with the view's type kept."""
    return cast(View, login_required(view))


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only a path on this site; anything else (another host, a scheme) goes to the default, else home.

    Read as a browser reads it: browsers drop tabs and line breaks inside a URL and treat a backslash
    as a slash, so "/\t/evil.example" and "/\\evil.example" lead to another host.
    """
    cleaned = "".join(ch for ch in (target or "") if ch not in "\t\r\n").strip(" \x00\x0b\x0c")
    if cleaned and "\\" not in cleaned and not any(ord(ch) < 32 for ch in cleaned):
        parts = urlsplit(cleaned)
        if not parts.scheme and not parts.netloc and cleaned.startswith("/") and not cleaned.startswith("//"):
            return cleaned
    return default or url_for("incidents.home")
