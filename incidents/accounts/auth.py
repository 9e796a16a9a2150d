"""Who is asking: a signed-in browser session for pages, a Bearer token for the API."""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import LoginManager

from ..database import get_session
from ..errors import AuthenticationRequired
from ..models import User
from .service import user_for_token


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
