"""Signing in through the organisation's OpenID Connect provider."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..database import get_session
from ..errors import DomainError
from . import sso
from .auth import safe_next, sign_in
from .forms import LoginForm
from .service_sso import sign_in_with_identity
from .throttle import forget_failed_sign_ins, record_failed_sign_in, sign_in_blocked, wait_message

bp = Blueprint("sso", __name__)
Refused = tuple[str, int, dict[str, str]]


# A link, not a form: browsers apply the CSP's form-action 'self' to redirects after a form
# post, which would block the hop to the provider. State and PKCE stop forged sign-ins instead.
@bp.get("/login/oidc")
def start() -> Response | Refused:
    """Send the browser to the provider's sign-in page."""
    try:
        return sso.redirect_to_provider(
            url_for("sso.callback", _external=True), next_path=safe_next(request.args.get("next"))
        )
    except sso.SignInFailed as exc:
        return _refused(exc.message, exc.status)


@bp.get("/login/oidc/callback")
def callback() -> Response | Refused:
    """Where the provider sends the browser back: verify the identity, then sign its account in."""
    wait = sign_in_blocked(None)
    if wait is not None:
        return _refused(wait_message(wait), 429, {"Retry-After": str(wait)})
    try:
        identity, next_path = sso.verified_identity()
    except sso.SignInFailed as exc:
        if exc.status < 500:
            record_failed_sign_in(None)
        return _refused(exc.message, exc.status)
    settings = sso.settings()
    assert settings is not None  # verified_identity refuses when single sign-on is off
    try:
        user = sign_in_with_identity(
            get_session(),
            identity=identity,
            default_role=settings.default_role,
            allowed_domains=settings.allowed_domains,
        )
    except DomainError as exc:
        record_failed_sign_in(identity.email)
        return _refused(exc.message, exc.status)
    forget_failed_sign_ins(identity.email)
    sign_in(user)
    return redirect(safe_next(next_path))


def _refused(message: str, status: int, headers: dict[str, str] | None = None) -> Refused:
    """The sign-in page again, saying why; nobody is signed in."""
    flash(message, "error")
    return render_template("auth/login.html", form=LoginForm()), status, headers or {}
