"""The incident page and what a responder does on it. Thin: each action calls one service function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from . import incident_page, queries, reader, service
from . import timeline as service_timeline
from .accounts.auth import signed_in
from .chat import messages as chat_messages
from .chat.history import request_chat_history
from .database import get_session
from .forms import (
    ConfirmForm,
    CorrectEntryForm,
    EntryForm,
    KeyTimesForm,
    MarkEntryForm,
    SeverityForm,
    StatusForm,
    run_form,
)
from .incident_page import roles_form
from .models import KEY_TIMES, SINGLE_HOLDER_ROLES, EntryKind, Incident, Source, Status
from .settings import severity_scale

# The source badge of the shared macro, rendered once per source for the timeline's rows.
SOURCE_BADGE = '{% from "_macros.html" import source %}{{ source(value) }}'

bp = Blueprint("incident", __name__, url_prefix="/incidents/<int:incident_id>")

Page = str | tuple[str, int]


@bp.get("")
@signed_in
def show(incident_id: int) -> Page:
    """The incident: header, key times and durations, roles, the timeline and the forms to change them."""
    return incident_page.render(incident_id)


@bp.post("/timeline")
@signed_in
def record_entry(incident_id: int) -> Response | Page:
    """Add a timeline entry; its time is read in the zone the page shows."""
    form = EntryForm()
    return _act(
        incident_id,
        form,
        lambda: service_timeline.record_timeline_entry(
            get_session(),
            actor=current_user,
            incident_id=incident_id,
            text=form.text.data or "",
            occurred_at=reader.wall_clock(form.occurred_at.data, "occurred_at"),
            kind=EntryKind(form.kind.data),
            evidence_url=form.evidence_url.data or None,
            is_key_moment=bool(form.is_key_moment.data),
        ),
        anchor="timeline-end",
        entry_form=form,
    )


@bp.post("/status")
@signed_in
def change_status(incident_id: int) -> Response | Page:
    """Move the incident to another status (forward fills key times; back reopens)."""
    form = StatusForm()
    return _act(incident_id, form, lambda: _update(incident_id, status=Status(form.status.data)), status_form=form)


@bp.post("/severity")
@signed_in
def change_severity(incident_id: int) -> Response | Page:
    """Change the severity."""
    form = SeverityForm()
    form.severity.choices = [SelectChoice(s) for s in severity_scale()]
    return _act(incident_id, form, lambda: _update(incident_id, severity=form.severity.data or ""))


@bp.post("/roles")
@signed_in
def change_roles(incident_id: int) -> Response | Page:
    """Assign the commander, scribe, communications lead and participants."""
    form = roles_form()
    roles: dict[str, Any] = {role.value: getattr(form, role.value).data or None for role in SINGLE_HOLDER_ROLES}
    roles["participants"] = form.participants.data or []
    return _act(incident_id, form, lambda: _update(incident_id, roles=roles), anchor="roles", roles_form=form)


@bp.post("/key-times")
@signed_in
def change_key_times(incident_id: int) -> Response | Page:
    """Set the key times (read in the zone the page shows) and the reference zone."""
    form = KeyTimesForm()

    def apply() -> Incident:
        times = {name: reader.wall_clock(getattr(form, name).data, name) for name in KEY_TIMES}
        if times["started_at"] is None:
            times.pop("started_at")  # it cannot be cleared; an empty box leaves it as it is
        return _update(incident_id, reference_timezone=form.reference_timezone.data or None, **times)

    return _act(incident_id, form, apply, anchor="key-times", key_times_form=form)


@bp.post("/timeline/<int:entry_id>/mark")
@signed_in
def mark_entry(incident_id: int, entry_id: int) -> Response | Page:
    """Set a key time from when this entry happened ("mark as detection")."""
    form = MarkEntryForm()
    return _act(
        incident_id,
        form,
        lambda: service.mark_key_time_from_entry(
            get_session(), actor=current_user, incident_id=incident_id, entry_id=entry_id, key_time=form.key_time.data
        ),
        anchor=f"entry-{entry_id}",
    )


@bp.post("/timeline/<int:entry_id>/correct")
@signed_in
def correct_entry(incident_id: int, entry_id: int) -> Response | Page:
    """Correct an entry; what it said before stays in its history."""
    form = CorrectEntryForm()

    def apply() -> Any:
        changes: dict[str, Any] = {
            "text": form.text.data or "",
            "kind": EntryKind(form.kind.data),
            "evidence_url": form.evidence_url.data or None,
            "is_key_moment": bool(form.is_key_moment.data),
        }
        if form.occurred_at.data:
            changes["occurred_at"] = reader.wall_clock(form.occurred_at.data, "occurred_at")
        return service_timeline.correct_timeline_entry(
            get_session(), actor=current_user, incident_id=incident_id, entry_id=entry_id, **changes
        )

    return _act(incident_id, form, apply, anchor=f"entry-{entry_id}")


@bp.post("/timeline/<int:entry_id>/delete")
@signed_in
def delete_entry(incident_id: int, entry_id: int) -> Response | Page:
    """Delete an entry from the timeline (kept, with who deleted it and when)."""
    form = ConfirmForm()
    return _act(
        incident_id,
        form,
        lambda: service_timeline.delete_timeline_entry(
            get_session(), actor=current_user, incident_id=incident_id, entry_id=entry_id
        ),
        anchor="timeline-end",
    )


@bp.post("/take-command")
@signed_in
def take_command(incident_id: int) -> Response | Page:
    """Command an incident nobody commands yet (one an alert declared)."""
    form = ConfirmForm()
    return _act(
        incident_id,
        form,
        lambda: service.take_command(get_session(), actor=current_user, incident_id=incident_id),
        anchor="roles",
    )


@bp.post("/chat/history")
@signed_in
def read_chat_history(incident_id: int) -> Response | Page:
    """Ask the chat integration to read the linked channels' history into the chat log."""
    form = ConfirmForm()

    def request_history() -> None:
        channels = request_chat_history(get_session(), actor=current_user, incident_id=incident_id, provider="slack")
        flash(f"Reading the history of {len(channels)} channel(s); the chat log fills in shortly.", "status")

    return _act(incident_id, form, request_history, anchor="chat")


@bp.post("/chat/<int:message_id>/mark")
@signed_in
def mark_chat_message(incident_id: int, message_id: int) -> Response | Page:
    """Make a message of the chat log a key moment of the timeline."""
    form = ConfirmForm()
    return _act(
        incident_id,
        form,
        lambda: chat_messages.mark_chat_message(
            get_session(), actor=current_user, incident_id=incident_id, message_id=message_id
        ),
        anchor=f"chat-{message_id}",
    )


def _update(incident_id: int, **changes: Any) -> Incident:
    return service.update_incident(
        get_session(), actor=current_user, incident_id=incident_id, source=Source.WEB, **changes
    )


def _act(incident_id: int, form: Any, action: Callable[[], Any], *, anchor: str = "", **forms: Any) -> Response | Page:
    """Run a form's action, then back to the page; when refused, the page again with the error and status."""
    # Times typed in the form are read in the zone the page showed them in.
    incident_page.apply_zone_choice(queries.get_incident(get_session(), viewer=current_user, incident_id=incident_id))
    refusal = run_form(form, action)
    if refusal is not None:
        return incident_page.render(incident_id, refusal.status, **forms)
    target = url_for("incident.show", incident_id=incident_id, zone=request.args.get("zone") or None)
    return redirect(target + (f"#{anchor}" if anchor else ""))
