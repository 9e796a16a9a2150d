"""What the review pages share: the guided review page with its forms, the act-then-redirect pattern,
reading typed durations and acknowledgements, and the incident page's post-mortem area."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries, reader, timefmt
from ..accounts.auth import safe_next
from ..database import get_session
from ..forms import run_form
from ..models import Incident, User, utcnow
from ..settings import default_due_days, factor_categories, severity_scale
from . import queries as queries_postmortem
from . import service, templates
from .forms import (
    ACTION_STATUS_LABELS,
    DURATION_HINT,
    ActionItemForm,
    FactorForm,
    MeetingEntryForm,
    ReviewForm,
)
from .models import Postmortem, ReviewStatus
from .templates import PostmortemTemplate

View = TypeVar("View", bound=Callable[..., Any])
Page = str | tuple[str, int]


def acknowledgements(form: MultiDict[str, str]) -> list[dict[str, str]]:
    """The findings the author ticked on the publish form, each with the reason typed beside it."""
    chosen = []
    for index in form.getlist("ack"):
        if not index.isdigit():
            continue
        chosen.append({name: form.get(f"{name}-{index}", "") for name in ("where", "rule", "phrase", "reason")})
    return chosen


def act(
    postmortem_id: int, form: Any, action: Callable[[], Any], *, anchor: str = "", details_as: str = "", **extra: Any
) -> Response | Page:
    """Run a form's action, then back to the review; on bad input the review again with the error and status.

    details_as names the page variable that receives a refusal's details (a conflict's texts, a
    refused publish's findings), so the page can show them beside the form.
    """
    refusal = run_form(form, action)
    if refusal is not None:
        if details_as and refusal.details:
            extra[details_as] = refusal.details
        return review_page(postmortem_id, refusal.status, **extra)
    return redirect(url_for("review.show", postmortem_id=postmortem_id) + (f"#{anchor}" if anchor else ""))


def review_page(postmortem_id: int, status: int = 200, **extra: Any) -> Page:
    """The guided review: sections in template order with their findings, the timeline, factors, action items."""
    session = get_session()
    postmortem = queries_postmortem.get_postmortem(session, viewer=current_user, postmortem_id=postmortem_id)
    entries = queries.list_timeline(session, viewer=current_user, incident_id=postmortem.incident_id)
    findings = service.blameless_findings(session, postmortem)
    by_where: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        by_where[finding["where"]].append(finding)
    people = queries.active_users(session)
    zone = reader.display_zone()
    page = render_template(
        "review/show.html",
        postmortem=postmortem,
        incident=postmortem.incident,
        entries=entries,
        agreed_ids={a.entry_id for a in postmortem.agreed_timeline},
        findings=findings,
        findings_at=by_where,
        problems=service.publishing_problems(postmortem),
        can_edit=current_user.can_write and postmortem.status is not ReviewStatus.PUBLISHED,
        can_write=current_user.can_write,
        zone=zone,
        review_form=extra.pop("review_form", None) or _review_form(postmortem, people, zone),
        meeting_form=extra.pop("meeting_form", None) or _meeting_form(zone),
        factor_form=FactorForm(formdata=None),
        categories=factor_categories(),
        item_form=extra.pop("item_form", None) or _item_form(people),
        due_days=default_due_days(),
        status_labels=ACTION_STATUS_LABELS,
        duration_hint=DURATION_HINT,
        today=utcnow().date(),
        conflict=extra.pop("conflict", None),
        refusal=extra.pop("refusal", None),
        **extra,
    )
    return (page, status) if status != 200 else page


def _review_form(postmortem: Postmortem, people: list[User], zone: str) -> ReviewForm:
    form = ReviewForm(formdata=None)
    fill_review_choices(form, people)
    form.facilitator.data = postmortem.facilitator.email if postmortem.facilitator else ""
    form.meeting_at.data = timefmt.wall_clock_value(postmortem.meeting_at, zone)
    form.agreed_severity.data = postmortem.agreed_severity or ""
    for name in ("downtime", "time_to_detect", "time_to_resolve"):
        seconds = getattr(postmortem, f"agreed_{name}_seconds")
        getattr(form, f"agreed_{name}").data = "" if seconds is None else timefmt.duration(timedelta(seconds=seconds))
    return form


def fill_review_choices(form: ReviewForm, people: list[User]) -> None:
    """The people who can facilitate and the severities a review can agree on."""
    form.facilitator.choices = [SelectChoice("", "— nobody —")] + [SelectChoice(u.email, u.name) for u in people]
    form.agreed_severity.choices = [SelectChoice("", "— unset —")] + [SelectChoice(s) for s in severity_scale()]


def fill_item_choices(form: ActionItemForm, people: list[User]) -> None:
    """The people an action item can be given to."""
    form.owner.choices = [SelectChoice("", "— a team, below —")] + [SelectChoice(u.email, u.name) for u in people]


def _item_form(people: list[User]) -> ActionItemForm:
    form = ActionItemForm(formdata=None)
    fill_item_choices(form, people)
    return form


def _meeting_form(zone: str) -> MeetingEntryForm:
    form = MeetingEntryForm(formdata=None)
    form.occurred_at.data = timefmt.wall_clock_value(utcnow(), zone)
    return form


@dataclass(frozen=True)
class PostmortemArea:
    """The incident page's post-mortem area: the existing review, or the templates to start one from."""

    postmortem: Postmortem | None
    templates: list[PostmortemTemplate]
    suggested: str


def postmortem_area(incident: Incident) -> PostmortemArea:
    """What the incident page shows about the incident's post-mortem."""
    postmortem = queries_postmortem.postmortem_of_incident(get_session(), viewer=current_user, incident_id=incident.id)
    if postmortem is not None:
        return PostmortemArea(postmortem, [], postmortem.template_key)
    suggested = templates.template(None, severity=incident.severity).key
    return PostmortemArea(None, templates.all_templates(), suggested)


def back_to(default: str) -> str:
    """Where a form on another page (the action items list) wants to go back to: a local path only."""
    return safe_next(request.form.get("back", ""), default)
