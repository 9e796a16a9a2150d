"""Admin pages: accounts, their roles, and passwords reset for people who lost theirs."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import queries
from ..database import get_session
from ..forms import ConfirmForm, run_form
from ..models import Role, User
from . import service, service_sso
from .auth import signed_in
from .forms import AccountForm, InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | tuple[str, int]


@bp.route("/users", methods=["GET", "POST"])
@signed_in
def users() -> Page:
    """Every account, with a form to add one (its first password is shown once)."""
    form = InviteForm()
    created: list[tuple[User, str]] = []
    status = 200
    if request.method == "POST":
        refusal = run_form(
            form,
            lambda: created.append(
                service.invite_user(
                    get_session(),
                    actor=current_user,
                    email=form.email.data or "",
                    name=form.name.data or None,
                    role=Role(form.role.data),
                )
            ),
        )
        if refusal is None:
            form = InviteForm(formdata=None)
        else:
            status = refusal.status
    page = _users_page(form, invited=created[0] if created else None)
    return (page, status) if status != 200 else page


@bp.post("/users/<int:user_id>")
@signed_in
def change_user(user_id: int) -> Response:
    """Change an account's role or whether it is active."""
    form = AccountForm(prefix=f"u{user_id}")
    changed: list[User] = []
    refusal = run_form(
        form,
        lambda: changed.append(
            service.change_account(
                get_session(),
                actor=current_user,
                user_id=user_id,
                role=Role(form.role.data),
                is_active=bool(form.is_active.data),
            )
        ),
    )
    if refusal is None:
        user = changed[0]
        flash(f"{user.name}: {user.role.value}, {'active' if user.is_active else 'deactivated'}.", "status")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@signed_in
def reset_password(user_id: int) -> Response | Page:
    """Give someone a new generated password, shown on the page this once; their open sessions end."""
    reset: list[tuple[User, str]] = []
    refusal = run_form(
        ConfirmForm(), lambda: reset.append(service.reset_password(get_session(), actor=current_user, user_id=user_id))
    )
    if refusal is not None:
        return redirect(url_for("admin.users"))
    # Drawn here rather than flashed across a redirect: a flash rides in the session cookie.
    return _users_page(InviteForm(formdata=None), reset=reset[0])


def _users_page(
    form: InviteForm, *, invited: tuple[User, str] | None = None, reset: tuple[User, str] | None = None
) -> str:
    people = queries.all_users(get_session(), viewer=current_user)
    forms = {
        u.id: AccountForm(formdata=None, prefix=f"u{u.id}", role=u.role.value, is_active=u.is_active) for u in people
    }
    return render_template(
        "admin/users.html",
        form=form,
        people=people,
        forms=forms,
        invited=invited,
        reset=reset,
        linked=service_sso.linked_user_ids(get_session()),
    )
