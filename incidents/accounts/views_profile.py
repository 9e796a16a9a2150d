"""The reader's own account: profile and zone, the UTC switch, and personal API tokens."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries, reader
from ..database import get_session
from ..errors import DomainError
from ..forms import ConfirmForm
from . import service
from .forms import ProfileForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")

Page = str | tuple[str, int]


@bp.route("", methods=["GET", "POST"])
@login_required
def profile() -> Response | Page:
    """Name and time zone (a chosen zone, or the browser's)."""
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    browser = reader.browser_zone()
    follow = f"Follow my browser ({browser})" if browser else "Follow my browser"
    form.timezone.choices = [SelectChoice("", follow)] + [SelectChoice(z) for z in sorted(available_timezones())]
    if request.method == "GET":
        form.timezone.data = current_user.timezone or ""
    if form.validate_on_submit():
        try:
            service.update_profile(
                get_session(), user_id=current_user.id, name=form.name.data, timezone=form.timezone.data or None
            )
        except DomainError as exc:
            flash(exc.message, "error")
            return render_template("account/profile.html", form=form), exc.status
        flash("Profile saved.", "status")
        return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form), 400 if form.errors else 200


@bp.post("/zone-view")
@login_required
def zone_view() -> Response:
    """Switch every page between UTC and the reader's own zone."""
    if ConfirmForm().validate_on_submit():
        session["zone_view"] = None if reader.showing_utc() else reader.UTC_VIEW
    target = request.form.get("back", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("incidents.home"))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Page:
    """List, create and revoke personal API tokens; a new token is shown once."""
    form = TokenForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            _, secret = service.create_api_token(get_session(), user_id=current_user.id, name=form.name.data or "")
            form = TokenForm(formdata=None)
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
    elif form.errors:
        status = 400
    page = render_template(
        "account/tokens.html",
        form=form,
        secret=secret,
        tokens=queries.tokens_of(get_session(), user_id=current_user.id),
        confirm_form=ConfirmForm(formdata=None),
    )
    return (page, status) if status != 200 else page


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response | Page:
    """Revoke one of the reader's tokens."""
    if not ConfirmForm().validate_on_submit():
        flash("The form expired. Try again.", "error")
    else:
        try:
            service.revoke_api_token(get_session(), user_id=current_user.id, token_id=token_id)
            flash("Token revoked.", "status")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("account.tokens"))
