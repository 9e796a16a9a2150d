"""What a review finds and decides, as pages: contributing factors with their hows, action items, and the
list of action items across every post-mortem. Thin: each action calls one use case of items."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries
from ..accounts.auth import signed_in
from ..database import get_session
from ..forms import ConfirmForm, run_form
from ..settings import factor_categories
from ..validation import record_id
from . import items
from . import queries as queries_postmortem
from .forms import ACTION_STATUS_LABELS, ActionItemForm, ActionStatusForm, FactorForm
from .models import OPEN_ACTION_STATUSES, ActionPriority, ActionStatus, ActionType
from .page import Page, act, back_to, fill_item_choices

bp = Blueprint("review_items", __name__)


@bp.post("/postmortems/<int:postmortem_id>/factors")
@signed_in
def add_factor(postmortem_id: int) -> Response | Page:
    """Add a contributing factor, or a "how" follow-up under one."""
    form = FactorForm()
    form.category.choices = [SelectChoice(c) for c in factor_categories()]
    return act(
        postmortem_id,
        form,
        lambda: items.add_contributing_factor(
            get_session(),
            actor=current_user,
            postmortem_id=postmortem_id,
            text=form.text.data or "",
            category=form.category.data or "",
            parent_id=record_id(form.parent_id.data, field="parent_id") if form.parent_id.data else None,
        ),
        anchor="factors",
        done="Added the “how”." if form.parent_id.data else "Added the contributing factor.",
    )


@bp.post("/postmortems/<int:postmortem_id>/factors/<int:factor_id>")
@signed_in
def reword_factor(postmortem_id: int, factor_id: int) -> Response | Page:
    """Reword or recategorise a contributing factor (how a blameless finding in it is put right)."""
    form = FactorForm()
    form.category.choices = [SelectChoice(c) for c in factor_categories()]
    return act(
        postmortem_id,
        form,
        lambda: items.update_contributing_factor(
            get_session(),
            actor=current_user,
            factor_id=factor_id,
            text=form.text.data or "",
            category=form.category.data or "",
        ),
        anchor=f"factor-{factor_id}",
        done="Saved the contributing factor.",
    )


@bp.post("/postmortems/<int:postmortem_id>/factors/<int:factor_id>/remove")
@signed_in
def remove_factor(postmortem_id: int, factor_id: int) -> Response | Page:
    """Remove a contributing factor and its follow-ups (the history keeps what they said)."""
    form = ConfirmForm()
    return act(
        postmortem_id,
        form,
        lambda: items.remove_contributing_factor(get_session(), actor=current_user, factor_id=factor_id),
        anchor="factors",
        done="Removed the contributing factor.",
    )


@bp.post("/postmortems/<int:postmortem_id>/action-items")
@signed_in
def add_action_item(postmortem_id: int) -> Response | Page:
    """Add a countermeasure or a lower-priority idea; an empty due date takes the priority's default."""
    form = ActionItemForm()
    fill_item_choices(form, queries.active_users(get_session()))
    return act(
        postmortem_id,
        form,
        lambda: items.add_action_item(get_session(), actor=current_user, postmortem_id=postmortem_id, **_decided(form)),
        anchor="action-items",
        item_form=form,
        done=lambda item: f"Added “{item.title}”.",
    )


@bp.post("/postmortems/<int:postmortem_id>/action-items/<int:item_id>")
@signed_in
def change_action_item(postmortem_id: int, item_id: int) -> Response | Page:
    """Change what was decided: title, owner, due date, priority, type, ticket (until published)."""
    form = ActionItemForm()
    fill_item_choices(form, queries.active_users(get_session()))
    return act(
        postmortem_id,
        form,
        lambda: items.update_action_item(get_session(), actor=current_user, action_item_id=item_id, **_decided(form)),
        anchor=f"item-{item_id}",
        done=lambda item: f"Saved “{item.title}”.",
    )


@bp.post("/postmortems/<int:postmortem_id>/action-items/<int:item_id>/status")
@signed_in
def change_action_status(postmortem_id: int, item_id: int) -> Response | Page:
    """Move an action item on: in progress, done, or won't do (with a reason). Allowed after publishing too."""
    form = ActionStatusForm()
    if request.form.get("back"):
        # From the action items list: back there, with the refusal as a message.
        return _from_list(form, item_id)
    return act(
        postmortem_id,
        form,
        lambda: items.update_action_item(
            get_session(),
            actor=current_user,
            action_item_id=item_id,
            status=form.status.data,
            wont_do_reason=form.wont_do_reason.data or None,
        ),
        anchor=f"item-{item_id}",
        done=_status_said,
    )


def _from_list(form: ActionStatusForm, item_id: int) -> Response:
    target = back_to(url_for("review_items.action_items"))
    changed: list[Any] = []
    refusal = run_form(
        form,
        lambda: changed.append(
            items.update_action_item(
                get_session(),
                actor=current_user,
                action_item_id=item_id,
                status=form.status.data,
                wont_do_reason=form.wont_do_reason.data or None,
            )
        ),
    )
    if refusal is None:
        flash(_status_said(changed[0]), "status")
    return redirect(target)


def _status_said(item: Any) -> str:
    return f"“{item.title}” is now {ACTION_STATUS_LABELS[item.status.value]}."


@bp.get("/action-items")
@signed_in
def action_items() -> Page:
    """Action items across every post-mortem: mine, a team's, overdue, by service, by status."""
    args = request.args
    statuses = [ActionStatus(s) for s in args.getlist("status") if s in ActionStatus._value2member_map_]
    if args.get("open") == "1" and not statuses:
        statuses = list(OPEN_ACTION_STATUSES)
    today = date.today()
    filters = queries_postmortem.ActionItemFilter(
        owner_id=current_user.id if args.get("mine") == "1" else None,
        team=(args.get("team") or "").strip()[:100] or None,
        service=(args.get("service") or "").strip()[:200] or None,
        statuses=statuses,
        overdue_on=today if args.get("overdue") == "1" else None,
    )
    items = queries_postmortem.list_action_items(get_session(), viewer=current_user, filters=filters)
    return render_template(
        "review/action_items.html",
        items=items,
        args=args,
        statuses=statuses,
        status_labels=ACTION_STATUS_LABELS,
        today=today,
        status_form=ActionStatusForm(formdata=None),
        back=request.full_path,
    )


def _decided(form: Any) -> dict[str, Any]:
    """What an action item form decides: the same fields whether the item is new or changed."""
    return {
        "title": form.title.data or "",
        "owner": form.owner.data or None,
        "owner_team": form.owner_team.data or None,
        "due_on": form.due_on.data,
        "priority": ActionPriority(form.priority.data),
        "type": ActionType(form.type.data),
        "ticket_url": form.ticket_url.data or None,
    }
