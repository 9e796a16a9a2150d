"""The guided review page and its workflow: start, sections, agreed metrics and timeline, review, publish.
Thin: each action reads a form and calls one use case; the rules live in service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries, schemas
from ..accounts.auth import signed_in
from ..database import get_session
from ..errors import Conflict
from ..forms import ConfirmForm
from ..reader import display_zone, wall_clock
from ..validation import record_id
from . import service, templates
from .forms import AgreedTimelineForm, MeetingEntryForm, ReviewForm, SectionForm, StartPostmortemForm, seconds_of
from .page import (
    Page,
    PostmortemArea,
    acknowledgements,
    act,
    fill_review_choices,
    postmortem_area,
    publish_or_refuse,
    review_page,
)

bp = Blueprint("review", __name__)


@bp.app_template_global("postmortem_area")
def _postmortem_area(incident: Any) -> PostmortemArea:
    # The incident page asks for its post-mortem area here, so that page's view stays as it is.
    return postmortem_area(incident)


@bp.post("/incidents/<int:incident_id>/postmortem")
@signed_in
def start(incident_id: int) -> Response:
    """Start the incident's post-mortem from the chosen template; an existing one is simply opened."""
    form = StartPostmortemForm()
    form.template.choices = [SelectChoice(t.key, t.name) for t in templates.all_templates()]
    if not form.validate_on_submit():
        flash("Choose one of the templates offered, then start again.", "error")
        return redirect(url_for("incident.show", incident_id=incident_id) + "#postmortem")
    try:
        postmortem = service.start_postmortem(
            get_session(), actor=current_user, incident_id=incident_id, template=form.template.data
        )
    except Conflict as exc:
        if exc.details and "postmortem_id" in exc.details:
            return redirect(url_for("review.show", postmortem_id=exc.details["postmortem_id"]))
        raise
    return redirect(url_for("review.show", postmortem_id=postmortem.id))


@bp.get("/postmortems/<int:postmortem_id>")
@signed_in
def show(postmortem_id: int) -> Page:
    """The guided review: sections in template order, the timeline beside them, factors and action items."""
    return review_page(postmortem_id)


@bp.post("/postmortems/<int:postmortem_id>/sections/<key>")
@signed_in
def save_section(postmortem_id: int, key: str) -> Response | Page:
    """Save one section; a save from an older version shows both texts side by side (409)."""
    form = SectionForm()
    return act(
        postmortem_id,
        form,
        lambda: service.save_section(
            get_session(),
            actor=current_user,
            postmortem_id=postmortem_id,
            key=key,
            body=form.body.data or "",
            version=int(form.version.data or 0),
            words_in=display_zone(),
        ),
        anchor=f"section-{key}",
        details_as="conflict",
        done=lambda section: (
            f"Saved “{section.title}”."
            if str(section.version) != form.version.data
            else f"“{section.title}” was already as you left it: nothing to save."
        ),
    )


@bp.post("/postmortems/<int:postmortem_id>/review")
@signed_in
def update_review(postmortem_id: int) -> Response | Page:
    """Record the facilitator, the meeting time and the agreed metrics."""
    form = ReviewForm()
    fill_review_choices(form, queries.active_users(get_session()))

    def apply() -> Any:
        return service.update_review(
            get_session(),
            actor=current_user,
            postmortem_id=postmortem_id,
            facilitator=form.facilitator.data or None,
            meeting_at=wall_clock(form.meeting_at.data, "meeting_at"),
            agreed_severity=form.agreed_severity.data or None,
            agreed_downtime_seconds=seconds_of(form.agreed_downtime.data),
            agreed_time_to_detect_seconds=seconds_of(form.agreed_time_to_detect.data),
            agreed_time_to_resolve_seconds=seconds_of(form.agreed_time_to_resolve.data),
        )

    return act(postmortem_id, form, apply, anchor="review", review_form=form, done="Saved the review details.")


@bp.post("/postmortems/<int:postmortem_id>/timeline")
@signed_in
def agree_timeline(postmortem_id: int) -> Response | Page:
    """Keep the ticked incident timeline entries as the agreed timeline."""
    form = AgreedTimelineForm()
    # The service checks every id against the incident's timeline; here they only need to be numbers.
    form.entry_ids.choices = [SelectChoice(v) for v in request.form.getlist("entry_ids")]
    return act(
        postmortem_id,
        form,
        lambda: service.set_agreed_timeline(
            get_session(),
            actor=current_user,
            postmortem_id=postmortem_id,
            entry_ids=[record_id(v, field="entry_ids") for v in form.entry_ids.data or []],
        ),
        anchor="timeline",
        done=lambda pm: f"Saved the agreed timeline: {len(pm.agreed_timeline)} entries.",
    )


@bp.post("/postmortems/<int:postmortem_id>/timeline/new")
@signed_in
def add_meeting_entry(postmortem_id: int) -> Response | Page:
    """Add an entry found in the meeting to the incident's timeline, and to the agreed timeline."""
    form = MeetingEntryForm()

    def apply() -> Any:
        return service.add_meeting_entry(
            get_session(),
            actor=current_user,
            postmortem_id=postmortem_id,
            text=form.text.data or "",
            occurred_at=wall_clock(form.occurred_at.data, "occurred_at"),
        )

    return act(
        postmortem_id, form, apply, anchor="timeline", meeting_form=form, done="Added the entry to both timelines."
    )


@bp.post("/postmortems/<int:postmortem_id>/submit")
@signed_in
def submit(postmortem_id: int) -> Response | Page:
    """Move the draft into review."""
    form = ConfirmForm()
    return act(
        postmortem_id,
        form,
        lambda: service.submit_for_review(get_session(), actor=current_user, postmortem_id=postmortem_id),
        anchor="workflow",
        done="Submitted for review.",
    )


@bp.post("/postmortems/<int:postmortem_id>/publish")
@signed_in
def publish(postmortem_id: int) -> Response:
    """Publish, acknowledging the ticked findings; refused, the review lists what is missing where it is."""
    return publish_or_refuse(postmortem_id, ConfirmForm(), acknowledgements(request.form))


@bp.post("/postmortems/<int:postmortem_id>/reopen")
@signed_in
def reopen(postmortem_id: int) -> Response | Page:
    """Take the published post-mortem back to draft (its history records who and when)."""
    form = ConfirmForm()
    return act(
        postmortem_id,
        form,
        lambda: service.reopen_postmortem(get_session(), actor=current_user, postmortem_id=postmortem_id),
        anchor="workflow",
        done="Reopened as a draft.",
    )


@bp.post("/postmortems/lint")
@signed_in
def lint() -> Response:
    """The blameless check as the writer types (the page's script calls it; CSRF token in a header)."""
    body = schemas.parse_json(schemas.LintText, request.get_data())
    findings = queries.blameless_findings(get_session(), text=body.text)
    return jsonify(findings=[{**f.as_dict(), "phrase": body.text[f.start : f.end]} for f in findings])
