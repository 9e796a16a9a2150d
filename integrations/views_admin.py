"""Admin pages of the pager integrations: the alerts last seen and the rules that routed them, and
the deliveries Kintsugi kept but could not understand, with a way to replay each."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from incidents.access import ensure_admin
from incidents.accounts.auth import signed_in
from incidents.alerts.commands import SENDER_NAMES
from incidents.alerts.models import DeliveryOutcome
from incidents.alerts.queries import recent_alerts, undecipherable_deliveries
from incidents.database import get_session

from .receiving import rules_of
from .replaying import replay
from .rules import NumberedRule, RulesError, first_match, rules_in_force

bp = Blueprint("integrations_admin", __name__, url_prefix="/admin")
PREVIEW = 600


@bp.get("/alerts")
@signed_in
def alerts() -> str:
    """What became of the latest alerts, the routing rules in force, and a form to try them (admins only)."""
    ensure_admin(current_user)
    rules = rules_of(current_app)
    tried: NumberedRule | None = None
    problem = None
    if "sender" in request.args:
        try:
            tried = first_match(rules, request.args["sender"], request.args.get("facts", ""))
        except RulesError as exc:
            problem = str(exc)
    return render_template(
        "integrations/alerts.html",
        seen=recent_alerts(get_session(), viewer=current_user),
        rules=rules_in_force(rules),
        senders=SENDER_NAMES,
        tried=tried,
        problem=problem,
    )


@bp.get("/deliveries")
@signed_in
def undecipherable() -> str:
    """Every kept delivery that could not be understood, newest first, with what went wrong (admins only)."""
    deliveries = undecipherable_deliveries(get_session(), viewer=current_user)
    previews = {d.id: d.body[:PREVIEW].decode("utf-8", "replace") for d in deliveries}
    return render_template("integrations/deliveries.html", deliveries=deliveries, previews=previews, preview=PREVIEW)


@bp.post("/deliveries/<int:delivery_id>/replay")
@signed_in
def replay_one(delivery_id: int) -> Response:
    """Replay one delivery with today's translation (admins only)."""
    ensure_admin(current_user)
    results = replay(current_app, get_session(), [delivery_id])
    if not results:
        flash(f"Delivery {delivery_id} is not stored.", "error")
    for _, _, receipt in results:
        if receipt.outcome is DeliveryOutcome.UNDECIPHERABLE:
            flash(f"Delivery {delivery_id} is still not understood: {receipt.problem}", "error")
        else:
            flash(f"Delivery {delivery_id} replayed: {receipt.outcome.value if receipt.outcome else ''}.", "status")
    return redirect(url_for("integrations_admin.undecipherable"))
