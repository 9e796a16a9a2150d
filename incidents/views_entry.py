"""A timeline entry's own page: mark it as a key time, correct it or delete it. The incident page links here, so that it
does not carry a correction form for each of its entries."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from . import queries, reader, timefmt
from .accounts.auth import signed_in
from .database import get_session
from .forms import ConfirmForm, CorrectEntryForm, MarkEntryForm
from .models import EntryKind

bp = Blueprint("entry", __name__, url_prefix="/incidents/<int:incident_id>/timeline/<int:entry_id>")


@bp.get("/edit")
@signed_in
def edit(incident_id: int, entry_id: int) -> str:
    """The correction form for one entry, filled with what it says now, and its delete button."""
    entry = queries.get_timeline_entry(get_session(), viewer=current_user, incident_id=incident_id, entry_id=entry_id)
    zone = reader.display_zone()
    form = CorrectEntryForm(
        formdata=None,
        text=entry.text,
        occurred_at=timefmt.wall_clock_value(entry.occurred_at, zone),
        kind=entry.kind.value,
        evidence_url=entry.evidence_url or "",
        is_key_moment=entry.is_key_moment,
    )
    return render_template(
        "incidents/entry_edit.html",
        entry=entry,
        form=form,
        zone=zone,
        zone_choice=request.args.get("zone") or None,
        confirm_form=ConfirmForm(formdata=None),
        # Alerts and detections usually mark detection; anything else, most often, mitigation.
        mark_form=MarkEntryForm(
            formdata=None,
            key_time="detected_at" if entry.kind in (EntryKind.ALERT, EntryKind.DETECTION) else "mitigated_at",
        ),
    )
