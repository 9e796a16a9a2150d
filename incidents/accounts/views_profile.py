"""The reader's own account: profile and zone, the UTC switch, and personal API tokens."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries, reader
from ..database import get_session
from ..forms import ConfirmForm, run_form
from . import service
from .auth import safe_next, signed_in
from .forms import ProfileForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")

Page = str | tuple[str, int]


@bp.route("", methods=["GET", "POST"])
@signed_in
def profile() -> Response | Page:
    """Name and time zone (a chosen zone, or the browser's)."""
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    browser = reader.browser_zone()
    follow = f"Follow my browser ({browser})" if browser else "Follow my browser"
    form.timezone.choices = [SelectChoice("", follow)] + [SelectChoice(z) for z in sorted(available_timezones())]
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
            return render_template("account/profile.html", form=form), refusal.status
        flash("Profile saved.", "status")
        return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)


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
