"""The JSON API under /api: parse, call one service function, serialize."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from . import queries, schemas, service
from . import timeline as service_timeline
from .accounts import service as service_accounts
from .accounts.auth import api_actor
from .chat import queries as chat_queries
from .database import get_session
from .models import Source
from .serialize import chat_message_json, entry_json, incident_json, user_json

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _authenticate() -> None:
    api_actor()


@bp.post("/incidents")
def declare() -> tuple[Response, int]:
    """Declare an incident."""
    body = schemas.parse_json(schemas.DeclareIncident, request.get_data())
    incident = service.declare_incident(get_session(), actor=api_actor(), source=Source.API, **body.model_dump())
    return jsonify(incident_json(incident)), 201


@bp.get("/incidents")
def list_incidents() -> Response:
    """A page of the incidents the caller may see."""
    args: dict[str, Any] = request.args.to_dict()
    for multi in ("status", "severity"):
        if multi in args:
            args[multi] = [v for raw in request.args.getlist(multi) for v in raw.split(",") if v]
    query = schemas.parse_query(schemas.IncidentQuery, args)
    page = queries.list_incidents(
        get_session(),
        viewer=api_actor(),
        filters=queries.IncidentFilter(
            statuses=query.status,
            severities=query.severity,
            service=query.service,
            team=query.team,
            tag=query.tag,
            since=query.since,
            until=query.until,
            text=query.q,
        ),
        cursor=query.cursor,
        limit=query.limit,
        sort=query.sort,
    )
    return jsonify(incidents=[incident_json(i) for i in page.incidents], next_cursor=page.next_cursor)


@bp.get("/incidents/<int:incident_id>")
def get_incident(incident_id: int) -> Response:
    """One incident with its key times and durations."""
    incident = queries.get_incident(get_session(), viewer=api_actor(), incident_id=incident_id)
    return jsonify(incident_json(incident))


@bp.patch("/incidents/<int:incident_id>")
def update_incident(incident_id: int) -> Response:
    """Change an incident; changes of state are logged on its timeline."""
    body = schemas.parse_json(schemas.UpdateIncident, request.get_data())
    incident = service.update_incident(
        get_session(),
        actor=api_actor(),
        incident_id=incident_id,
        source=Source.API,
        **body.changes(),
    )
    return jsonify(incident_json(incident))


@bp.get("/incidents/<int:incident_id>/timeline")
def timeline(incident_id: int) -> Response:
    """An incident's timeline in the order things happened."""
    include_deleted = request.args.get("include_deleted", "false").lower() in ("1", "true", "yes")
    entries = queries.list_timeline(
        get_session(),
        viewer=api_actor(),
        incident_id=incident_id,
        filters=queries.TimelineFilter(include_deleted=include_deleted),
    )
    return jsonify(entries=[entry_json(e) for e in entries])


@bp.get("/incidents/<int:incident_id>/chat")
def chat_log(incident_id: int) -> Response:
    """The messages of the incident's linked channels, newest first; `before` pages back."""
    query = schemas.parse_query(schemas.ChatLogQuery, request.args.to_dict())
    messages = chat_queries.chat_log(
        get_session(), viewer=api_actor(), incident_id=incident_id, limit=query.limit, before=query.before
    )
    return jsonify(messages=[chat_message_json(m) for m in messages])


@bp.post("/incidents/<int:incident_id>/timeline")
def record_entry(incident_id: int) -> tuple[Response, int]:
    """Add a timeline entry; a redelivery returns the stored one with 200."""
    body = schemas.parse_json(schemas.RecordEntry, request.get_data())
    entry, created = service_timeline.record_timeline_entry(
        get_session(), actor=api_actor(), incident_id=incident_id, **body.model_dump()
    )
    return jsonify(entry_json(entry)), 201 if created else 200


@bp.patch("/incidents/<int:incident_id>/timeline/<int:entry_id>")
def correct_entry(incident_id: int, entry_id: int) -> Response:
    """Correct a timeline entry, keeping what it said before."""
    body = schemas.parse_json(schemas.CorrectEntry, request.get_data())
    entry = service_timeline.correct_timeline_entry(
        get_session(), actor=api_actor(), incident_id=incident_id, entry_id=entry_id, **body.changes()
    )
    return jsonify(entry_json(entry))


@bp.delete("/incidents/<int:incident_id>/timeline/<int:entry_id>")
def delete_entry(incident_id: int, entry_id: int) -> Response:
    """Soft-delete a timeline entry."""
    entry = service_timeline.delete_timeline_entry(
        get_session(), actor=api_actor(), incident_id=incident_id, entry_id=entry_id
    )
    return jsonify(entry_json(entry))


@bp.get("/me")
def me() -> Response:
    """The calling account."""
    actor = api_actor()
    return jsonify({**user_json(actor), "role": actor.role.value, "timezone": actor.timezone})


@bp.patch("/me")
def update_me() -> Response:
    """Change the calling account's name or time zone."""
    body = schemas.parse_json(schemas.UpdateProfile, request.get_data())
    user = service_accounts.update_profile(get_session(), user_id=api_actor().id, **body.changes())
    return jsonify({**user_json(user), "role": user.role.value, "timezone": user.timezone})


@bp.post("/lint")
def lint() -> Response:
    """The blameless check: counterfactuals, blame and try-harder countermeasures in a text."""
    body = schemas.parse_json(schemas.LintText, request.get_data())
    findings = queries.blameless_findings(get_session(), text=body.text)
    return jsonify(findings=[f.as_dict() for f in findings])
