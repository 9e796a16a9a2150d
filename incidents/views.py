"""The front page, the incident list (and its CSV export) and the declare form; each calls one query or service."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from . import queries, reader, service, timefmt
from .accounts.auth import signed_in
from .database import get_session, open_session
from .errors import BadRequest
from .forms import DeclareForm, run_form
from .models import KEY_TIMES, Incident, IncidentRole, LabelKind, Status, Visibility
from .outbox.service import oldest_pending_age_seconds
from .panels import panels_at
from .postmortems import queries as queries_postmortem
from .postmortems.models import OPEN_ACTION_STATUSES
from .settings import severity_scale

bp = Blueprint("incidents", __name__, static_folder="static", static_url_path="/static/kintsugi")


def init_app(app: Flask) -> None:
    """Template filters and globals, and /healthz."""
    app.jinja_env.filters["duration"] = timefmt.duration
    app.jinja_env.globals["panels"] = panels_at
    app.jinja_env.filters["local"] = lambda value, fmt="%a %Y-%m-%d %H:%M %Z": timefmt.local(
        value, reader.display_zone(), fmt
    )
    app.jinja_env.filters["local_iso"] = lambda value: timefmt.local(
        datetime.fromisoformat(value) if value else None, reader.display_zone()
    )
    app.jinja_env.filters["age"] = timefmt.age
    app.jinja_env.globals.update(
        LabelKind=LabelKind,
        IncidentRole=IncidentRole,
        KEY_TIMES=KEY_TIMES,
        display_zone=reader.display_zone,
        showing_utc=reader.showing_utc,
        browser_zone=reader.browser_zone,
    )
    app.add_url_rule("/healthz", "healthz", _healthz)


def _healthz() -> Response:
    session = get_session()
    session.execute(text("SELECT 1"))  # the database answers, or this is a 503
    # The oldest effect still waiting tells whether the outbox's workers keep up (None when nothing
    # waits). Code started before `flask db upgrade` made the table is still healthy, and says so.
    try:
        age: float | str | None = oldest_pending_age_seconds(session)
    except SQLAlchemyError:
        session.rollback()
        age = "unknown: the database is not upgraded"
    return jsonify(status="ok", outbox_oldest_pending_seconds=age)


@bp.get("/")
@signed_in
def home() -> str:
    """Open incidents, most severe first; then the recently updated, recent post-mortems and my open action items."""
    session = get_session()
    open_now = queries.list_incidents(
        session,
        viewer=current_user,
        filters=queries.IncidentFilter(statuses=[Status.INVESTIGATING, Status.MITIGATED]),
        sort="severity",
        limit=50,
    )
    recent = queries.list_incidents(
        session,
        viewer=current_user,
        filters=queries.IncidentFilter(statuses=[Status.RESOLVED, Status.CLOSED]),
        sort="updated",
        limit=10,
    )
    postmortems = queries_postmortem.recent_postmortems(session, viewer=current_user, limit=5)
    mine = queries_postmortem.list_action_items(
        session,
        viewer=current_user,
        filters=queries_postmortem.ActionItemFilter(owner_id=current_user.id, statuses=OPEN_ACTION_STATUSES),
        limit=20,
    )
    return render_template(
        "incidents/home.html",
        open_now=open_now,
        recent=recent,
        postmortems=postmortems,
        my_items=mine,
        today=date.today(),
    )


@bp.get("/incidents")
@signed_in
def list_incidents() -> str:
    """The incident list with filters, sort and pagination."""
    filters, sort = _list_query()
    page = queries.list_incidents(
        get_session(), viewer=current_user, filters=filters, cursor=request.args.get("cursor") or None, sort=sort
    )
    return render_template(
        "incidents/list.html",
        page=page,
        statuses=list(Status),
        severities=severity_scale(),
        sorts=queries.SORTS,
        args=request.args,
        export_url=url_for("incidents.export_csv", **_args_without("cursor")),
        first_url=url_for("incidents.list_incidents", **_args_without("cursor")),
        next_url=url_for("incidents.list_incidents", **{**_args_without("cursor"), "cursor": page.next_cursor})
        if page.next_cursor
        else None,
    )


@bp.get("/incidents.csv")
@signed_in
def export_csv() -> Response:
    """Every incident the list shows with these filters, as CSV."""
    filters, sort = _list_query()
    viewer = current_user._get_current_object()

    def lines() -> Iterator[str]:
        # A session of the stream's own: the request's is closed before the stream ends.
        with open_session() as session:
            yield from _csv_lines(queries.iter_incident_lines(session, viewer=viewer, filters=filters, sort=sort))

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=incidents.csv"
    return response


@bp.route("/incidents/new", methods=["GET", "POST"])
@signed_in
def declare() -> BaseResponse | str | tuple[str, int]:
    """The declare form: a title and a severity are enough."""
    form = DeclareForm()
    form.severity.choices = [SelectChoice(s) for s in severity_scale()]
    users = queries.active_users(get_session())
    form.commander.choices = [SelectChoice(u.email, u.name) for u in users]
    if request.method == "GET":
        form.commander.data = current_user.email
        return render_template("incidents/declare.html", form=form)
    declared: list[Incident] = []
    refusal = run_form(
        form,
        lambda: declared.append(
            service.declare_incident(
                get_session(),
                actor=current_user,
                title=form.title.data or "",
                severity=form.severity.data or "",
                summary=form.summary.data or "",
                services=(form.services.data or "").split(","),
                started_at=reader.wall_clock(form.started_at.data, "started_at"),
                visibility=Visibility(form.visibility.data),
                commander=form.commander.data or None,
            )
        ),
    )
    if refusal is not None:
        return render_template("incidents/declare.html", form=form), refusal.status
    return redirect(url_for("incident.show", incident_id=declared[0].id))


def _list_query() -> tuple[queries.IncidentFilter, str]:
    args = request.args
    try:
        statuses = [Status(s) for s in args.getlist("status") if s]
    except ValueError:
        raise BadRequest("unknown status", field="status") from None
    sort = args.get("sort") or "newest"
    zone = reader.display_zone()
    filters = queries.IncidentFilter(
        statuses=statuses,
        severities=[s for s in args.getlist("severity") if s],
        service=(args.get("service") or "").strip() or None,
        team=(args.get("team") or "").strip() or None,
        tag=(args.get("tag") or "").strip() or None,
        text=(args.get("q") or "").strip()[:200] or None,
        since=_day(args.get("from"), zone, "from"),
        until=_day(args.get("to"), zone, "to", next_day=True),
    )
    return filters, sort


def _day(value: str | None, zone: str, field: str, *, next_day: bool = False) -> datetime | None:
    """The start of a day (YYYY-MM-DD) in the reader's zone; the day after it for an inclusive end."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{field} must be a date like 2026-11-22", field=field) from None
    return timefmt.start_of_day(day, zone, field=field, days_after=1 if next_day else 0)


def _args_without(name: str) -> dict[str, Any]:
    return {key: request.args.getlist(key) for key in request.args if key != name}


CSV_COLUMNS = ["id", "title", "severity", "status", "visibility", "services", "teams", "tags", "commander", *KEY_TIMES]


def _csv_lines(lines: Iterator[queries.IncidentLine]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        incident = line.incident
        writer.writerow(
            [
                incident.id,
                _cell(incident.title),
                incident.severity,
                incident.status.value,
                incident.visibility.value,
                ";".join(line.labels.get(LabelKind.SERVICE, ())),
                ";".join(line.labels.get(LabelKind.TEAM, ())),
                ";".join(line.labels.get(LabelKind.TAG, ())),
                ", ".join(line.commanders),
                *((getattr(incident, name).isoformat() if getattr(incident, name) else "") for name in KEY_TIMES),
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
