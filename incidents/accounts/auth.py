"""Who is asking: a signed-in browser session for pages, a Bearer token for the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, g, request, url_for
from flask_login import LoginManager, login_required

from ..database import get_session
from ..errors import AuthenticationRequired
from ..models import User
from .service import user_for_token

View = TypeVar("View", bound=Callable[..., Any])


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
    return user if user is not None and user.is_active else None


def api_actor() -> User:
    """The user whose Bearer token came with this API request; 401 otherwise."""
    if "api_actor" in g:
        actor: User = g.api_actor
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationRequired("send a personal API token as 'Authorization: Bearer <token>'")
    user = user_for_token(get_session(), secret.strip())
    if user is None:
        raise AuthenticationRequired("the API token is unknown or revoked")
    g.api_actor = user
    return user


def signed_in(view: View) -> View:
    """The one way a page requires sign-in: Flask-Login's login_required, with the view's type kept."""
    return cast(View, login_required(view))


def safe_next(target: str | None, default: str | None = None) -> str:
    """Only a path on this site; anything else (another host, a scheme) goes to the default, else home."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return default or url_for("incidents.home")
