"""What the review pages share: the guided review page with its forms, the act-then-redirect pattern,
reading typed durations and acknowledgements, and the incident page's post-mortem area."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import queries, reader, timefmt
from ..accounts.auth import safe_next
from ..database import get_session
from ..errors import DomainError
from ..forms import run_form
from ..models import Incident, User, utcnow
from ..settings import default_due_days, factor_categories, severity_scale
from . import queries as queries_postmortem
from . import readiness, service, templates
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
    postmortem_id: int,
    form: Any,
    action: Callable[[], Any],
    *,
    anchor: str = "",
    details_as: str = "",
    done: str | Callable[[Any], str] = "",
    **extra: Any,
) -> Response | Page:
    """Run a form's action, then back to the review saying in one line what was done; on bad input the
    review again with the error and status.

    details_as names the page variable that receives a refusal's details (a conflict's texts), so the
    page can show them beside the form. done is the confirmation, or makes it from the action's result.
    """
    result: list[Any] = []
    refusal = run_form(form, lambda: result.append(action()))
    if refusal is not None:
        if details_as and refusal.details:
            extra[details_as] = refusal.details
        return review_page(postmortem_id, refusal.status, **extra)
    message = done(result[0]) if callable(done) else done
    if message:
        flash(message, "status")
    return redirect(url_for("review.show", postmortem_id=postmortem_id) + (f"#{anchor}" if anchor else ""))


def publish_or_refuse(postmortem_id: int, form: Any, acknowledge: list[dict[str, str]]) -> Response:
    """Publish and open the document; refused, back to the review (303), which lists what to put right
    where it is, as often as it is reloaded, without publishing again."""
    review = url_for("review.show", postmortem_id=postmortem_id)
    if not form.validate_on_submit():
        flash("The form could not be read. Reload the page and try again.", "error")
        return redirect(review + "#workflow", code=303)
    try:
        service.publish_postmortem(
            get_session(), actor=current_user, postmortem_id=postmortem_id, acknowledge=acknowledge
        )
    except DomainError as exc:
        get_session().rollback()
        if exc.details and "problems" in exc.details:
            refused = dict(browser_session.get(REFUSED, {}))
            # Kept in the (cookie) session: the reasons typed come back only while they fit in it.
            kept = acknowledge if len(json.dumps(acknowledge)) <= ACKNOWLEDGED_MAX else []
            refused[str(postmortem_id)] = kept
            browser_session[REFUSED] = refused
            flash("Not published yet: put right what is marked below, then publish again.", "error")
        else:
            flash(exc.message, "error")
        return redirect(review + "#workflow", code=303)
    refused = dict(browser_session.get(REFUSED, {}))
    if refused.pop(str(postmortem_id), None) is not None:
        browser_session[REFUSED] = refused
    flash("Published.", "status")
    return redirect(url_for("review_document.document", postmortem_id=postmortem_id), code=303)


REFUSED = "publish_refused"
ACKNOWLEDGED_MAX = 1500


def _refusal(postmortem_id: int, problems: list[readiness.Problem], findings: list[dict[str, Any]]) -> Any:
    """The refused publish this reader made, while there is still something to put right."""
    acknowledged = browser_session.get(REFUSED, {}).get(str(postmortem_id))
    if acknowledged is None or not (problems or findings):
        return None
    return {"acknowledged": {(a.get("where"), a.get("rule"), a.get("phrase")): a for a in acknowledged}}


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
    problems = readiness.publishing_problems(postmortem)
    problems_at: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        problems_at[problem.where].append(problem.message)
    page = render_template(
        "review/show.html",
        postmortem=postmortem,
        incident=postmortem.incident,
        entries=entries,
        agreed_ids={a.entry_id for a in postmortem.agreed_timeline},
        findings=findings,
        findings_at=by_where,
        problems=problems,
        problems_at=problems_at,
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
        refusal=_refusal(postmortem_id, problems, findings),
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
    form.occurred_at.data = timefmt.wall_clock_value(utcnow().replace(second=0, microsecond=0), zone)
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
