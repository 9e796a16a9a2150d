"""Signing in and out of the web app."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from ..database import get_session
from ..errors import PermissionDenied
from .auth import safe_next, sign_in
from .forms import LoginForm
from .service import authenticate_password, end_sessions
from .sso import password_sign_in_allowed, settings
from .throttle import forget_failed_sign_ins, record_failed_sign_in, sign_in_blocked, wait_message

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The sign-in form; after repeated failures, a wait (429) during which no password is checked."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = sign_in_blocked(email)
        if wait is not None:
            flash(wait_message(wait), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        try:
            user = authenticate_password(get_session(), email=email, password=form.password.data or "")
        except PermissionDenied as exc:  # the right password of a deactivated account
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), 403
        if user is not None and not password_sign_in_allowed(user):
            # Said only once the password matched, so it tells a stranger nothing about which accounts exist.
            flash(
                f"Your account signs in through single sign-on: use “{_button()}”. "
                "The password form is kept for administrators.",
                "error",
            )
            return render_template("auth/login.html", form=form), 403
        if user is not None:
            forget_failed_sign_ins(email)
            sign_in(user)
            return redirect(safe_next(form.next.data))
        record_failed_sign_in(email)
        flash("That email and password do not match an active account.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out, here and in every other browser: a copied cookie no longer works."""
    if current_user.is_authenticated:
        end_sessions(get_session(), user_id=current_user.id)
    logout_user()
    return redirect(url_for("auth.login"))


def _button() -> str:
    configured = settings()
    return configured.button if configured else "single sign-on"
