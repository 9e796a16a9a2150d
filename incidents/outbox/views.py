"""The admin page of the outbox: counts, and each parked row with its error and a Retry button."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..access import ensure_admin
from ..accounts.auth import signed_in
from ..database import get_session
from ..forms import ConfirmForm, run_form
from . import service

bp = Blueprint("outbox", __name__, url_prefix="/admin")
SHOWN = 100


@bp.get("/outbox")
@signed_in
def parked() -> str:
    """How many effects are pending, parked and applied, and the parked ones with what went wrong (admins only)."""
    ensure_admin(current_user)
    session = get_session()
    return render_template(
        "outbox/parked.html",
        status=service.status(session),
        rows=service.parked_rows(session, limit=SHOWN),
        shown=SHOWN,
    )


@bp.post("/outbox/<int:row_id>/retry")
@signed_in
def retry(row_id: int) -> Response:
    """Make a parked row pending again; a worker applies it shortly (admins only)."""
    ensure_admin(current_user)
    if run_form(ConfirmForm(), lambda: service.retry_parked(get_session(), row_id=row_id)) is None:
        flash(f"Outbox row {row_id} will be tried again shortly.", "status")
    return redirect(url_for("outbox.parked"))
