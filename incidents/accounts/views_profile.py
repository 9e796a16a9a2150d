"""The reader's own account: profile and zone, password, the UTC switch, and personal API tokens."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries, reader
from ..database import get_session
from ..errors import AuthenticationRequired
from ..forms import ConfirmForm, run_form
from ..models import User
from . import service
from .auth import keep_session, safe_next, signed_in
from .forms import PasswordForm, ProfileForm, TokenForm
from .sso import password_sign_in_allowed
from .throttle import record_failed_sign_in, sign_in_blocked, wait_message

bp = Blueprint("account", __name__, url_prefix="/account")

Page = str | tuple[str, int]


@bp.route("", methods=["GET", "POST"])
@signed_in
def profile() -> Response | Page:
    """Name and time zone (a chosen zone, or the browser's), and the form to change one's password."""
    form = _offer_zones(ProfileForm(obj=current_user if request.method == "GET" else None))
    if request.method == "GET":
        form.timezone.data = current_user.timezone or ""
    if request.method == "POST":
        refusal = run_form(
            form,
            lambda: service.update_profile(
                get_session(), user_id=current_user.id, name=form.name.data, timezone=form.timezone.data or None
            ),
        )
        if refusal is not None:
            return _profile_page(form=form), refusal.status
        flash("Profile saved.", "status")
        return redirect(url_for("account.profile"))
    return _profile_page(form=form)


@bp.post("/password")
@signed_in
def change_password() -> Response | Page | tuple[str, int, dict[str, str]]:
    """Change one's own password: the current one, then the new one twice. Other browsers are signed out."""
    form = PasswordForm(prefix="password")
    # A wrong current password counts as a failed sign-in, so a session left open is no faster way to guess.
    wait = sign_in_blocked(current_user.email)
    if wait is not None:
        flash(wait_message(wait), "error")
        return _profile_page(password_form=form), 429, {"Retry-After": str(wait)}
    changed: list[User] = []
    refusal = run_form(
        form,
        lambda: changed.append(
            service.change_own_password(
                get_session(),
                user_id=current_user.id,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
        ),
    )
    if refusal is not None:
        if refusal.status == AuthenticationRequired.status:
            record_failed_sign_in(current_user.email)
        return _profile_page(password_form=form), refusal.status
    keep_session(changed[0])
    flash("Password changed. Any other browser signed in as you has been signed out.", "status")
    return redirect(url_for("account.profile"))


def _profile_page(*, form: ProfileForm | None = None, password_form: PasswordForm | None = None) -> str:
    if form is None:
        form = _offer_zones(ProfileForm(formdata=None, obj=current_user))
        form.timezone.data = current_user.timezone or ""
    return render_template(
        "account/profile.html",
        form=form,
        password_form=password_form or PasswordForm(formdata=None, prefix="password"),
        password_sign_in=current_user.password_hash is not None and password_sign_in_allowed(current_user),
        password_min=service.PASSWORD_MIN,
    )


def _offer_zones(form: ProfileForm) -> ProfileForm:
    browser = reader.browser_zone()
    follow = f"Follow my browser ({browser})" if browser else "Follow my browser"
    form.timezone.choices = [SelectChoice("", follow)] + [SelectChoice(z) for z in sorted(available_timezones())]
    return form


@bp.post("/zone-view")
@signed_in
def zone_view() -> Response:
    """Switch every page between UTC and the reader's own zone."""
    if ConfirmForm().validate_on_submit():
        session["zone_view"] = None if reader.showing_utc() else reader.UTC_VIEW
    target = request.form.get("back", "")
    return redirect(safe_next(target))


@bp.route("/tokens", methods=["GET", "POST"])
@signed_in
def tokens() -> Page:
    """List, create and revoke personal API tokens; a new token is shown once."""
    form = TokenForm()
    created: list[str] = []
    status = 200
    if request.method == "POST":
        refusal = run_form(
            form,
            lambda: created.append(
                service.create_api_token(get_session(), user_id=current_user.id, name=form.name.data or "")[1]
            ),
        )
        if refusal is None:
            form = TokenForm(formdata=None)
        else:
            status = refusal.status
    secret = created[0] if created else None
    page = render_template(
        "account/tokens.html",
        form=form,
        secret=secret,
        tokens=queries.tokens_of(get_session(), user_id=current_user.id),
        confirm_form=ConfirmForm(formdata=None),
    )
    return (page, status) if status != 200 else page


@bp.post("/tokens/<int:token_id>/revoke")
@signed_in
def revoke_token(token_id: int) -> Response | Page:
    """Revoke one of the reader's tokens."""
    if (
        run_form(
            ConfirmForm(), lambda: service.revoke_api_token(get_session(), user_id=current_user.id, token_id=token_id)
        )
        is None
    ):
        flash("Token revoked.", "status")
    return redirect(url_for("account.tokens"))
