"""Use cases for what a review finds and decides: contributing factors (with their "how" follow-ups) and
action items (countermeasures and lower-priority ideas, each owned and dated). One transaction each."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from .. import validation
from ..access import can_see, ensure_can_write
from ..actors import Actor, actor_id, ensure_can_act, text_of
from ..errors import InvalidInput, NotFound
from ..events import ActionItemChanged, record_event
from ..models import TEXT_MAX, TITLE_MAX, User, utcnow
from ..settings import default_due_days, factor_categories
from .models import (
    TEAM_MAX,
    ActionItem,
    ActionPriority,
    ActionStatus,
    ActionType,
    ContributingFactor,
    Postmortem,
    ReviewStatus,
)
from .service import editable_postmortem, known_person, record_change

HOW_DEPTH_MAX = 8
Choice = TypeVar("Choice", ActionPriority, ActionType, ActionStatus)


def add_contributing_factor(
    session: Session, *, actor: User, postmortem_id: int, text: str, category: str, parent_id: int | None = None
) -> ContributingFactor:
    """Add a contributing factor, or a "how" follow-up under one (parent_id)."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    factor = add_factor(session, postmortem, actor=actor, text=text, category=category, parent_id=parent_id)
    session.commit()
    return factor


def add_factor(
    session: Session, postmortem: Postmortem, *, actor: Actor, text: str, category: str, parent_id: int | None = None
) -> ContributingFactor:
    """Add a contributing factor, without committing: the core every path calls (the post-mortem is editable)."""
    ensure_can_act(actor)
    factor = ContributingFactor(
        postmortem_id=postmortem.id,
        text=text_of(actor, text, field="text", limit=TEXT_MAX, required=True),
        category=_category(category),
        created_by_id=actor_id(actor),
    )
    if parent_id is not None:
        parent = session.get(ContributingFactor, parent_id)
        if parent is None or parent.postmortem_id != postmortem.id:
            raise InvalidInput(f"contributing factor {parent_id} is not in this post-mortem", field="parent_id")
        if _depth(session, parent) >= HOW_DEPTH_MAX:
            raise InvalidInput(f"follow-ups go {HOW_DEPTH_MAX} levels deep at most", field="parent_id")
        factor.parent_id = parent.id
    postmortem.factors.append(factor)
    session.flush()
    record_change(
        session, postmortem, actor, "factor", f"Added contributing factor ({factor.category}).", None, factor.text
    )
    return factor


def update_contributing_factor(
    session: Session, *, actor: User, factor_id: int, text: str | None = None, category: str | None = None
) -> ContributingFactor:
    """Reword or recategorise a contributing factor."""
    factor = _factor(session, actor, factor_id)
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=factor.postmortem_id)
    before = factor.text
    if text is not None:
        factor.text = validation.text(text, field="text", limit=TEXT_MAX, required=True)
    if category is not None:
        factor.category = _category(category)
    record_change(
        session, postmortem, actor, "factor", f"Edited contributing factor ({factor.category}).", before, factor.text
    )
    session.commit()
    return factor


def remove_contributing_factor(session: Session, *, actor: User, factor_id: int) -> None:
    """Remove a contributing factor and its follow-ups (the history keeps what it said)."""
    factor = _factor(session, actor, factor_id)
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=factor.postmortem_id)
    remove_factor(session, postmortem, factor, actor=actor)
    session.commit()


def remove_factor(session: Session, postmortem: Postmortem, factor: ContributingFactor, *, actor: Actor) -> None:
    """Remove a contributing factor and its follow-ups, without committing: the core every path calls."""
    ensure_can_act(actor)
    # The database removes the follow-ups (ON DELETE CASCADE); the collection is read again after.
    session.delete(factor)
    session.flush()
    session.expire(postmortem, ["factors"])
    record_change(session, postmortem, actor, "factor", "Removed a contributing factor.", factor.text, None)


def add_action_item(
    session: Session,
    *,
    actor: User,
    postmortem_id: int,
    title: str,
    owner: str | None = None,
    owner_team: str | None = None,
    due_on: date | None = None,
    priority: ActionPriority = ActionPriority.COUNTERMEASURE,
    type: ActionType = ActionType.PREVENT,
    ticket_url: str | None = None,
) -> ActionItem:
    """Add a countermeasure or idea; its due date defaults by priority (30 and 90 days unless configured)."""
    postmortem = editable_postmortem(session, actor=actor, postmortem_id=postmortem_id)
    item = add_item(
        session,
        postmortem,
        actor=actor,
        title=title,
        owner=owner,
        owner_team=owner_team,
        due_on=due_on or utcnow().date() + timedelta(days=default_due_days()[priority.value]),
        priority=priority,
        type=type,
        ticket_url=ticket_url,
    )
    session.commit()
    return item


def add_item(
    session: Session,
    postmortem: Postmortem,
    *,
    actor: Actor,
    title: str,
    owner: str | None,
    owner_team: str | None,
    due_on: date | None,
    priority: ActionPriority = ActionPriority.COUNTERMEASURE,
    type: ActionType = ActionType.PREVENT,
    ticket_url: str | None = None,
) -> ActionItem:
    """Add an action item, without committing: the core every path calls (the post-mortem is editable).

    due_on is taken as given: None is a countermeasure nobody dated yet (the use case dates it by default).
    """
    ensure_can_act(actor)
    item = ActionItem(
        postmortem_id=postmortem.id,
        title=text_of(actor, title, field="title", limit=TITLE_MAX, required=True),
        owner_id=known_person(session, owner, field="owner").id if owner else None,
        owner_team=_team(owner_team),
        due_on=due_on,
        priority=priority,
        type=type,
        ticket_url=validation.link(ticket_url, field="ticket_url"),
        created_by_id=actor_id(actor),
    )
    postmortem.action_items.append(item)
    session.flush()
    record_change(session, postmortem, actor, "action_item", f"Added {priority.value} “{item.title}”.")
    record_event(
        session, ActionItemChanged(action_item_id=item.id, postmortem_id=postmortem.id, actor_id=actor_id(actor))
    )
    return item


ACTION_FIELDS = {"title", "owner", "owner_team", "due_on", "priority", "type", "status", "wont_do_reason", "ticket_url"}


def update_action_item(session: Session, *, actor: User, action_item_id: int, **changes: Any) -> ActionItem:
    """Change an action item. Its status moves on after publishing too: that is the follow-through."""
    item = _action_item(session, actor, action_item_id)
    change_item(session, item, actor=actor, **changes)
    session.commit()
    return item


def change_item(session: Session, item: ActionItem, *, actor: Actor, **changes: Any) -> None:
    """Change an action item, without committing: the core every path calls."""
    ensure_can_act(actor)
    unknown = set(changes) - ACTION_FIELDS
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    # Once published, the decision (what, who, when) stands; only the work's progress moves.
    if item.postmortem.status is ReviewStatus.PUBLISHED and set(changes) - {"status", "wont_do_reason", "ticket_url"}:
        raise InvalidInput("the post-mortem is published: reopen it to change what was decided", field="status")
    before = _describe(item)
    if "title" in changes:
        item.title = validation.text(changes["title"], field="title", limit=TITLE_MAX, required=True)
    if "owner" in changes:
        item.owner_id = known_person(session, changes["owner"], field="owner").id if changes["owner"] else None
    if "owner_team" in changes:
        item.owner_team = _team(changes["owner_team"])
    if "due_on" in changes:
        item.due_on = changes["due_on"]
    if "priority" in changes:
        item.priority = _choice(ActionPriority, changes["priority"], "priority")
    if "type" in changes:
        item.type = _choice(ActionType, changes["type"], "type")
    if "ticket_url" in changes:
        item.ticket_url = validation.link(changes["ticket_url"], field="ticket_url")
    if "wont_do_reason" in changes:
        item.wont_do_reason = (
            validation.text(changes["wont_do_reason"] or "", field="wont_do_reason", limit=TEXT_MAX) or None
        )
    if "status" in changes:
        _move(item, _choice(ActionStatus, changes["status"], "status"))
    if item.status is ActionStatus.WONT_DO and not item.wont_do_reason:
        raise InvalidInput("say why this won't be done", field="wont_do_reason")
    item.updated_at = utcnow()
    after = _describe(item)
    if after != before:
        record_change(session, item.postmortem, actor, "action_item", f"Changed “{item.title}”.", before, after)
        record_event(
            session,
            ActionItemChanged(action_item_id=item.id, postmortem_id=item.postmortem_id, actor_id=actor_id(actor)),
        )


def _choice(kind: type[Choice], value: Any, field: str) -> Choice:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{field} must be one of {', '.join(m.value for m in kind)}", field=field) from None


def _move(item: ActionItem, status: ActionStatus) -> None:
    if status is item.status:
        return
    item.status = status
    item.done_at = utcnow() if status is ActionStatus.DONE else None
    if status is not ActionStatus.WONT_DO:
        item.wont_do_reason = None


def _describe(item: ActionItem) -> str:
    owner = item.owner.name if item.owner else item.owner_team or "nobody"
    reason = f" ({item.wont_do_reason})" if item.wont_do_reason else ""
    return (
        f"{item.title} | {item.priority.value}, {item.type.value} | owner {owner} | due {item.due_on or 'unset'} | "
        f"{item.status.value}{reason} | {item.ticket_url or 'no ticket'}"
    )


def _category(value: str) -> str:
    value = (value or "").strip().lower()
    categories = factor_categories()
    if value not in categories:
        raise InvalidInput(f"category must be one of: {', '.join(categories)}", field="category")
    return value


def _team(value: str | None) -> str | None:
    value = (value or "").strip()
    if len(value) > TEAM_MAX:
        raise InvalidInput(f"owner_team is longer than {TEAM_MAX} characters", field="owner_team")
    return value or None


# A factor or an action item of an incident the actor may not see answers exactly as a missing one:
# the same status and message, and the account's right to write is refused first, before any lookup.
def _factor(session: Session, actor: User, factor_id: int) -> ContributingFactor:
    ensure_can_write(actor)
    factor = session.get(ContributingFactor, factor_id)
    if factor is None or not can_see(factor.postmortem.incident, actor):
        raise NotFound(f"contributing factor {factor_id} not found")
    return factor


def _action_item(session: Session, actor: User, action_item_id: int) -> ActionItem:
    ensure_can_write(actor)
    item = session.get(ActionItem, action_item_id)
    if item is None or not can_see(item.postmortem.incident, actor):
        raise NotFound(f"action item {action_item_id} not found")
    return item


def _depth(session: Session, factor: ContributingFactor) -> int:
    depth = 1
    while factor.parent_id is not None:
        parent = session.get(ContributingFactor, factor.parent_id)
        if parent is None:
            break
        factor, depth = parent, depth + 1
    return depth
