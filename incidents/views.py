"""The incident pages: list, declare, read, and add to the timeline. Thin: each calls one service."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import text
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from . import queries, service, service_timeline, timefmt
from .database import get_session
from .errors import DomainError
from .forms import DeclareForm, EntryForm, StatusForm
from .models import EntryKind, IncidentRole, LabelKind, Status, Visibility
from .rendering import render_markdown
from .settings import severity_scale

bp = Blueprint("incidents", __name__, static_folder="static", static_url_path="/static/kintsugi")


def init_app(app: Flask) -> None:
    """Template filters and /healthz."""
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["duration"] = timefmt.duration
    app.jinja_env.filters["local"] = lambda value, fmt="%a %Y-%m-%d %H:%M %Z": timefmt.local(
        value, _reader_zone(), fmt
    )
    app.add_url_rule("/healthz", "healthz", _healthz)


def _healthz() -> Response:
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")


def _reader_zone() -> str:
    if current_user and current_user.is_authenticated:
        zone: str = current_user.timezone
        return zone
    return "UTC"


@bp.get("/")
def home() -> Response:
    """The front page: the incident list for now."""
    return redirect(url_for("incidents.list_incidents"))


@bp.get("/incidents")
@login_required
def list_incidents() -> str:
    """The incident list with filters and pagination."""
    args = request.args
    try:
        statuses = [Status(s) for s in args.getlist("status") if s]
    except ValueError:
        abort(400, "unknown status")
    filters = queries.IncidentFilter(
        statuses=statuses,
        severities=[s for s in args.getlist("severity") if s],
        service=args.get("service") or None,
        text=(args.get("q") or "")[:200] or None,
    )
    page = queries.list_incidents(
        get_session(), viewer=current_user, filters=filters, cursor=args.get("cursor") or None
    )
    return render_template(
        "incidents/list.html",
        page=page,
        statuses=list(Status),
        severities=severity_scale(),
        LabelKind=LabelKind,
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def declare() -> Response | str | tuple[str, int]:
    """The declare form."""
    form = DeclareForm()
    form.severity.choices = [SelectChoice(s) for s in severity_scale()]
    if form.validate_on_submit():
        try:
            incident = service.declare_incident(
                get_session(),
                actor=current_user,
                title=form.title.data or "",
                severity=form.severity.data or "",
                summary=form.summary.data or "",
                services=(form.services.data or "").split(","),
                started_at=_from_form(form.started_at.data, "started_at"),
                visibility=Visibility(form.visibility.data),
            )
        except DomainError as exc:
            return _form_error(exc, "incidents/declare.html", form=form)
        return redirect(url_for("incidents.show", incident_id=incident.id))
    return render_template("incidents/declare.html", form=form), 400 if form.errors else 200


@bp.get("/incidents/<int:incident_id>")
@login_required
def show(incident_id: int) -> str:
    """The incident page."""
    return _render_incident(incident_id, EntryForm(), StatusForm())


@bp.post("/incidents/<int:incident_id>/timeline")
@login_required
def record_entry(incident_id: int) -> Response | str | tuple[str, int]:
    """Add a timeline entry from the incident page."""
    form = EntryForm()
    if form.validate_on_submit():
        try:
            service_timeline.record_timeline_entry(
                get_session(),
                actor=current_user,
                incident_id=incident_id,
                text=form.text.data or "",
                occurred_at=_from_form(form.occurred_at.data, "occurred_at"),
                kind=EntryKind(form.kind.data),
                evidence_url=form.evidence_url.data or None,
                is_key_moment=bool(form.is_key_moment.data),
            )
        except DomainError as exc:
            flash(exc.message, "error")
            return _render_incident(incident_id, form, StatusForm()), exc.status
        return redirect(url_for("incidents.show", incident_id=incident_id) + "#timeline-end")
    return _render_incident(incident_id, form, StatusForm()), 400


@bp.post("/incidents/<int:incident_id>/status")
@login_required
def change_status(incident_id: int) -> Response | tuple[str, int]:
    """Change an incident's status from its page."""
    form = StatusForm()
    if not form.validate_on_submit():
        return _render_incident(incident_id, EntryForm(), form), 400
    try:
        service.update_incident(
            get_session(), actor=current_user, incident_id=incident_id, status=Status(form.status.data)
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return _render_incident(incident_id, EntryForm(), form), exc.status
    return redirect(url_for("incidents.show", incident_id=incident_id))


def _render_incident(incident_id: int, entry_form: EntryForm, status_form: StatusForm) -> str:
    session = get_session()
    incident = queries.get_incident(session, viewer=current_user, incident_id=incident_id)
    entries = queries.list_timeline(session, viewer=current_user, incident_id=incident_id)
    status_form.status.data = status_form.status.data or incident.status.value
    zone = _reader_zone()
    days = [
        (day, list(group))
        for day, group in groupby(entries, key=lambda e: timefmt.local(e.occurred_at, zone, "%A %Y-%m-%d"))
    ]
    return render_template(
        "incidents/show.html",
        incident=incident,
        days=days,
        entry_form=entry_form,
        status_form=status_form,
        zone=zone,
        LabelKind=LabelKind,
        IncidentRole=IncidentRole,
    )


def _from_form(value: datetime | None, field: str) -> datetime | None:
    """A wall-clock time from a form, read in the reader's zone."""
    return timefmt.from_wall_clock(value, _reader_zone(), field=field) if value else None


def _form_error(exc: DomainError, template: str, **context: Any) -> tuple[str, int]:
    flash(exc.message, "error")
    return render_template(template, **context), exc.status
