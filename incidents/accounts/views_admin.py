"""Admin pages: accounts and their roles."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import queries
from ..database import get_session
from ..errors import DomainError
from ..models import Role
from . import service, service_sso
from .forms import AccountForm, InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN_LINKS = "kintsugi.admin_links"


def add_admin_link(app: Flask, label: str, endpoint: str) -> None:
    """List another package's admin page beside Users (integrations add theirs; incidents never imports them)."""
    app.extensions.setdefault(ADMIN_LINKS, []).append((label, endpoint))


@bp.app_template_global("admin_links")
def _admin_links() -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = current_app.extensions.get(ADMIN_LINKS, [])
    return links

Page = str | tuple[str, int]


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users() -> Page:
    """Every account, with a form to add one (its first password is shown once)."""
    form = InviteForm()
    invited = None
    status = 200
    if form.validate_on_submit():
        try:
            user, password = service.invite_user(
                get_session(), actor=current_user, email=form.email.data or "", name=form.name.data or None, role=Role(form.role.data)
            )
            invited = (user, password)
            form = InviteForm(formdata=None)
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
    elif form.errors:
        status = 400
    people = queries.all_users(get_session(), viewer=current_user)
    forms = {u.id: AccountForm(formdata=None, prefix=f"u{u.id}", role=u.role.value, is_active=u.is_active) for u in people}
    linked = service_sso.linked_user_ids(get_session())
    page = render_template("admin/users.html", form=form, people=people, forms=forms, invited=invited, linked=linked)
    return (page, status) if status != 200 else page


@bp.post("/users/<int:user_id>")
@login_required
def change_user(user_id: int) -> Response:
    """Change an account's role or whether it is active."""
    form = AccountForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        flash("The form could not be read. Reload the page and try again.", "error")
        return redirect(url_for("admin.users"))
    try:
        user = service.change_account(
            get_session(), actor=current_user, user_id=user_id, role=Role(form.role.data), is_active=bool(form.is_active.data)
        )
        flash(f"{user.name}: {user.role.value}, {'active' if user.is_active else 'deactivated'}.", "status")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("admin.users"))
